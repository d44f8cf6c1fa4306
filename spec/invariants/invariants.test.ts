import { describe, expect, it } from "vitest";
import type { ClusterView, Invariant } from "./cluster-view.ts";
import {
  allInvariants,
  checkAll,
  ElectionSafety,
  EpochsMonotonic,
  HighWatermarkValid,
  IsrSubsetOfReplicas,
  LeaderCompleteness,
  LeaderInIsr,
  LogMatching,
  MetadataBeforeData,
  MetadataLogMatching,
  NoAckedRecordLost,
  OneMembershipChangeAtATime,
} from "./index.ts";
import { at, data, healthyView, meta, modify, replica, t0 } from "./test-helpers.ts";

interface Case {
  title: string;
  view: ClusterView;
  previous?: ClusterView;
  /** null: the invariant holds; otherwise a pattern the violation message must match. */
  violation: RegExp | null;
}

const healthy = healthyView();

function table(invariant: Invariant, cases: Case[]): void {
  describe(invariant.name, () => {
    it("has at least one holding and one violated case", () => {
      expect(cases.some((c) => c.violation === null)).toBe(true);
      expect(cases.some((c) => c.violation !== null)).toBe(true);
    });
    it.each(cases)("$title", ({ view, previous, violation }) => {
      const message = invariant.check(view, previous);
      if (violation === null) expect(message).toBeNull();
      else expect(message).toMatch(violation);
    });
  });
}

table(ElectionSafety, [
  { title: "one leader per epoch holds", view: healthy, violation: null },
  {
    title: "a later epoch with another leader holds",
    view: modify(healthy, (v) => {
      at(v, 1).quorum.role = "follower";
      at(v, 2).quorum = { ...at(v, 2).quorum, role: "leader", epoch: 3 };
    }),
    violation: null,
  },
  {
    title: "two quorum leaders in one epoch at once",
    view: modify(healthy, (v) => {
      at(v, 3).quorum.role = "leader";
    }),
    violation: /quorum epoch 2 has leaders nodes 1, 3/,
  },
  {
    title: "a second quorum leader in an epoch already led, from history",
    view: modify(healthy, (v) => {
      at(v, 1).quorum.role = "resigned";
      at(v, 2).quorum.role = "leader";
    }),
    violation: /quorum epoch 2 has leaders nodes 1, 2/,
  },
  {
    title: "two partition leaders in one leader epoch",
    view: modify(healthy, (v) => {
      t0(v, 2).isr = [1, 2, 3];
    }),
    violation: /partition t-0 leader epoch 1 has leaders nodes 1, 2/,
  },
]);

table(LogMatching, [
  { title: "identical logs hold", view: healthy, violation: null },
  {
    title: "diverging uncommitted tails in different epochs hold",
    view: modify(healthy, (v) => {
      t0(v, 1).log = data("1:a 1:b 1:c 2:x");
      t0(v, 2).log = data("1:a 1:b 1:c 1:y");
    }),
    violation: null,
  },
  {
    title: "same offset and epoch with a different prefix",
    view: modify(healthy, (v) => {
      t0(v, 2).highWatermark = 0;
      t0(v, 3).highWatermark = 0;
      t0(v, 3).log = data("1:a 1:z 1:c");
    }),
    violation: /partition t-0: nodes \d and 3 differ at offset 1 .*same epoch/,
  },
  {
    title: "below both high watermarks a different record",
    view: modify(healthy, (v) => {
      t0(v, 3).log = data("1:a 1:b 2:q");
    }),
    violation: /partition t-0: nodes 1 and 3 differ at offset 2 .*below both high watermarks/,
  },
  {
    title: "metadata logs differing below both high watermarks",
    view: modify(healthy, (v) => {
      at(v, 2).metadataLog = meta([1, "VotersRecord 1,2,3", [1, 2, 3]], [1, "TopicRecord u"]);
      at(v, 2).quorum.highWatermark = 2;
    }),
    violation: /metadata log: nodes 1 and 2 differ at offset 1/,
  },
]);

table(LeaderCompleteness, [
  { title: "a complete leader holds", view: healthy, violation: null },
  {
    title: "a quorum leader missing a committed record of an earlier epoch",
    view: modify(healthy, (v) => {
      at(v, 1).quorum.role = "follower";
      const two = at(v, 2);
      two.quorum = { ...two.quorum, role: "leader", epoch: 3, highWatermark: 1 };
      two.metadataLog = two.metadataLog.slice(0, 1);
      two.appliedMetadataOffset = 1;
    }),
    violation: /quorum leader node 2 \(epoch 3\) lacks committed metadata offset 1/,
  },
  {
    title: "a partition leader missing an acknowledged record",
    view: modify(healthy, (v) => {
      t0(v, 1).isr = undefined;
      const two = t0(v, 2);
      two.isr = [2, 3];
      two.leaderEpoch = 2;
      two.log = data("1:a 1:b");
      two.highWatermark = 2;
    }),
    violation: /partition t-0 leader node 2 \(leader epoch 2\) lacks committed record c at offset 2/,
  },
]);

table(MetadataLogMatching, [
  { title: "applied prefix of the committed log holds", view: healthy, violation: null },
  {
    title: "a node behind the commit point holds",
    view: modify(healthy, (v) => {
      at(v, 3).appliedMetadataOffset = 2;
    }),
    violation: null,
  },
  {
    title: "a node applied beyond the commit point",
    view: modify(healthy, (v) => {
      const two = at(v, 2);
      two.metadataLog = [...two.metadataLog, { offset: 4, epoch: 2, record: "TopicRecord u" }];
      two.appliedMetadataOffset = 5;
    }),
    violation: /node 2 applied metadata up to offset 5, beyond the committed offset 4/,
  },
  {
    title: "a node applied a record that is not the committed one",
    view: modify(healthy, (v) => {
      at(v, 3).metadataLog = meta(
        [1, "VotersRecord 1,2,3", [1, 2, 3]],
        [1, "TopicRecord other"],
        [2, "LeaderChangeRecord 1"],
        [2, "PartitionRecord t-0"],
      );
    }),
    violation: /node 3 applied metadata offset 1 .*"TopicRecord other".*"TopicRecord t"/,
  },
]);

const addVoter4 = { offset: 4, epoch: 2, record: "VotersRecord 1,2,3,4", voters: [1, 2, 3, 4] };
table(OneMembershipChangeAtATime, [
  {
    title: "one voter added, uncommitted, holds",
    view: modify(healthy, (v) => {
      at(v, 1).metadataLog = [...at(v, 1).metadataLog, addVoter4];
    }),
    violation: null,
  },
  {
    title: "a voters record changing two voters",
    view: modify(healthy, (v) => {
      at(v, 2).metadataLog = [
        ...at(v, 2).metadataLog,
        { offset: 4, epoch: 2, record: "VotersRecord 1,2,3,4,5", voters: [1, 2, 3, 4, 5] },
      ];
    }),
    violation: /node 2 metadata offset 4 changes voters \[1, 2, 3\] to \[1, 2, 3, 4, 5\]/,
  },
  {
    title: "a leader with two uncommitted voters records",
    view: modify(healthy, (v) => {
      at(v, 1).metadataLog = [
        ...at(v, 1).metadataLog,
        addVoter4,
        { offset: 5, epoch: 2, record: "VotersRecord 1,2,4", voters: [1, 2, 4] },
      ];
    }),
    violation: /quorum leader node 1 \(epoch 2\) has 2 uncommitted voters records at offsets 4, 5/,
  },
]);

table(LeaderInIsr, [
  { title: "leader in ISR holds", view: healthy, violation: null },
  {
    title: "no leader (-1) holds",
    view: modify(healthy, (v) => {
      v.partitions["t-0"]!.leader = -1;
      v.partitions["t-0"]!.isr = [2];
    }),
    violation: null,
  },
  {
    title: "committed leader outside the committed ISR",
    view: modify(healthy, (v) => {
      v.partitions["t-0"]!.isr = [2, 3];
    }),
    violation: /partition t-0 committed leader node 1 \(leader epoch 1\) is not in its ISR \[2, 3\]/,
  },
  {
    title: "acting leader outside its own ISR",
    view: modify(healthy, (v) => {
      t0(v, 1).isr = [2, 3];
    }),
    violation: /partition t-0 leader node 1 \(leader epoch 1\) is not in its ISR/,
  },
]);

table(IsrSubsetOfReplicas, [
  { title: "ISR within replicas holds", view: healthy, violation: null },
  {
    title: "committed ISR with a non-replica",
    view: modify(healthy, (v) => {
      v.partitions["t-0"]!.isr = [1, 2, 4];
    }),
    violation: /partition t-0 committed ISR \[1, 2, 4\] has nodes 4 outside its replicas \[1, 2, 3\]/,
  },
  {
    title: "leader's ISR with a non-replica",
    view: modify(healthy, (v) => {
      t0(v, 1).isr = [1, 5];
    }),
    violation: /leader node 1 holds ISR \[1, 5\] with nodes 5 outside/,
  },
]);

table(HighWatermarkValid, [
  {
    title: "high watermark at every ISR member's end holds",
    view: healthy,
    previous: healthy,
    violation: null,
  },
  {
    title: "a dead ISR member behind holds",
    view: modify(healthy, (v) => {
      at(v, 3).alive = false;
      t0(v, 3).log = data("1:a");
      t0(v, 3).highWatermark = 1;
    }),
    violation: null,
  },
  {
    title: "leader's high watermark passes an ISR member's end offset",
    view: modify(healthy, (v) => {
      t0(v, 2).log = data("1:a 1:b");
      t0(v, 2).highWatermark = 2;
    }),
    violation: /partition t-0 leader node 1 high watermark 3 passes ISR member node 2's end offset 2/,
  },
  {
    title: "a replica's high watermark passes its own end offset",
    view: modify(healthy, (v) => {
      t0(v, 3).highWatermark = 5;
    }),
    violation: /partition t-0 node 3 high watermark 5 passes its end offset 3/,
  },
  {
    title: "a replica's high watermark moves back",
    previous: healthy,
    view: modify(healthy, (v) => {
      t0(v, 2).highWatermark = 1;
    }),
    violation: /partition t-0 node 2 high watermark moved back from 3 to 1 in leader epoch 1/,
  },
  {
    title: "the quorum high watermark moves back",
    previous: healthy,
    view: modify(healthy, (v) => {
      at(v, 3).quorum.highWatermark = 2;
    }),
    violation: /node 3 quorum high watermark moved back from 4 to 2/,
  },
]);

table(NoAckedRecordLost, [
  { title: "acked records on every ISR member hold", view: healthy, previous: healthy, violation: null },
  {
    title: "after a clean leader change holds",
    previous: healthy,
    view: modify(healthy, (v) => {
      at(v, 1).alive = false;
      v.partitions["t-0"] = {
        leader: 2,
        isr: [2, 3],
        replicas: [1, 2, 3],
        leaderEpoch: 2,
        partitionEpoch: 2,
      };
    }),
    violation: null,
  },
  {
    title: "an ISR member truncated an acked record",
    view: modify(healthy, (v) => {
      t0(v, 3).log = data("1:a 1:b");
      t0(v, 3).highWatermark = 2;
    }),
    violation: /partition t-0 ISR member node 3 \(leader epoch 1\) lost acked record c at offset 2/,
  },
  {
    title: "a new leader overwrote an acked record",
    view: modify(healthy, (v) => {
      at(v, 1).alive = false;
      v.partitions["t-0"] = { leader: 2, isr: [2], replicas: [1, 2, 3], leaderEpoch: 2, partitionEpoch: 2 };
      t0(v, 2).log = data("1:a 1:b 2:x");
    }),
    violation:
      /partition t-0 leader node 2 \(leader epoch 2\) lost acked record c at offset 2 \(holds x there\)/,
  },
  {
    title: "an acked record dropped from the acknowledged set",
    previous: healthy,
    view: modify(healthy, (v) => {
      v.acked = v.acked.slice(0, 2);
    }),
    violation: /acked record c at partition t-0 offset 2 dropped/,
  },
]);

table(MetadataBeforeData, [
  { title: "replicas with applied assignments hold", view: healthy, violation: null },
  {
    title: "an empty replica not yet assigned holds",
    view: modify(healthy, (v) => {
      at(v, 3).replicas["t-0"] = replica({ appliedAssigningRecord: false, log: [], highWatermark: 0 });
    }),
    violation: null,
  },
  {
    title: "data held before the assigning record is applied",
    view: modify(healthy, (v) => {
      t0(v, 3).appliedAssigningRecord = false;
    }),
    violation: /node 3 holds 3 records of partition t-0 before applying its assigning record/,
  },
  {
    title: "leading before the assigning record is applied",
    view: modify(healthy, (v) => {
      at(v, 1).replicas["t-0"] = replica({
        appliedAssigningRecord: false,
        log: [],
        highWatermark: 0,
        isr: [1],
      });
    }),
    violation: /node 1 leads partition t-0 before applying its assigning record/,
  },
  {
    title: "serving a leader epoch the metadata has not committed",
    view: modify(healthy, (v) => {
      t0(v, 2).leaderEpoch = 2;
    }),
    violation: /node 2 serves partition t-0 at leader epoch 2 .*ahead of the committed leader epoch 1/,
  },
]);

table(EpochsMonotonic, [
  { title: "unchanged epochs hold", view: healthy, previous: healthy, violation: null },
  {
    title: "a bumped leader epoch holds",
    previous: healthy,
    view: modify(healthy, (v) => {
      v.partitions["t-0"]!.leaderEpoch = 2;
      v.partitions["t-0"]!.partitionEpoch = 2;
    }),
    violation: null,
  },
  {
    title: "committed leader epoch decreases",
    previous: modify(healthy, (v) => {
      v.partitions["t-0"]!.leaderEpoch = 3;
    }),
    view: healthy,
    violation: /partition t-0 committed leader epoch went from 3 to 1/,
  },
  {
    title: "a replica's partition epoch decreases",
    previous: modify(healthy, (v) => {
      t0(v, 2).partitionEpoch = 4;
    }),
    view: healthy,
    violation: /partition t-0 node 2 partition epoch went from 4 to 1/,
  },
  {
    title: "a node's quorum epoch decreases across a restart",
    previous: modify(healthy, (v) => {
      at(v, 3).quorum.epoch = 5;
      at(v, 3).alive = false;
    }),
    view: healthy,
    violation: /node 3 quorum epoch went from 5 to 2/,
  },
]);

describe("allInvariants", () => {
  it("lists every invariant of DESIGN.md once", () => {
    expect(allInvariants.map((i) => i.name)).toEqual([
      "ElectionSafety",
      "LogMatching",
      "LeaderCompleteness",
      "MetadataLogMatching",
      "OneMembershipChangeAtATime",
      "LeaderInIsr",
      "IsrSubsetOfReplicas",
      "HighWatermarkValid",
      "NoAckedRecordLost",
      "MetadataBeforeData",
      "EpochsMonotonic",
    ]);
  });

  it("all hold on the healthy cluster, against itself as previous", () => {
    expect(checkAll(healthy, healthy)).toEqual([]);
  });

  it("a view survives a JSON round trip unchanged (plain data)", () => {
    expect(JSON.parse(JSON.stringify(healthy))).toEqual(healthy);
  });
});
