#!/bin/sh
# Creates the intentstream topics on a Kafka cluster (idempotent; POSIX sh). Used by the
# kafka-init service of docker-compose.yml; works against any cluster with Kafka's CLI:
#   BOOTSTRAP=broker:9092 PARTITIONS=12 REPLICATION=3 ./create-topics.sh
# All input topics and the hand-off topic (<group.id>-identity-handoff) get the SAME partition count: the processor joins
# them by key (co-partitioning) and refuses to start when the counts differ.
set -eu

BOOTSTRAP=${BOOTSTRAP:-kafka:9092}
PARTITIONS=${PARTITIONS:-6}
REPLICATION=${REPLICATION:-1}
# Input retention bounds how far back a replica that lost its state volume can rebuild
# (state.rebuild_from_beginning); 30 days matches the default state.session_ttl_s.
INPUT_RETENTION_MS=${INPUT_RETENTION_MS:-2592000000}
KAFKA_TOPICS=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}

create() {  # name, extra kafka-topics arguments...
  topic=$1; shift
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$PARTITIONS" --replication-factor "$REPLICATION" "$@"
}

for t in web-events app-events identity-links; do
  create "$t" --config "retention.ms=$INPUT_RETENTION_MS"
done
create customer-profiles --config cleanup.policy=compact
create intentstream-identity-handoff --config "retention.ms=$INPUT_RETENTION_MS"
for t in decisions triggers dead-letters; do
  create "$t"
done

# --if-not-exists keeps an existing topic as it is: check the partition counts agree.
fail=0
for t in web-events app-events identity-links customer-profiles intentstream-identity-handoff; do
  n=$("$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --describe --topic "$t" \
        | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n1)
  echo "topic $t: $n partitions"
  if [ "$n" != "$PARTITIONS" ]; then
    echo "topic $t has $n partitions, expected $PARTITIONS (inputs must be co-partitioned)" >&2
    fail=1
  fi
done
exit $fail
