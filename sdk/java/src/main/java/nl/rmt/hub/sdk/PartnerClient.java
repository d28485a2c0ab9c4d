package nl.rmt.hub.sdk;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A partner's connection to the hub: publishes canonical records to its outbox and reads its
 * inbox (protocol sections 6 and 7). Thread-safe for publishing; polling belongs to one thread.
 *
 * <pre>{@code
 * try (var client = new PartnerClient(PartnerClient.Config.of("uwv", "localhost:9092", "http://localhost:8081")
 *         .withKeys(Path.of("/etc/rmt-hub/keys")))) {
 *     GenericRecord referral = client.stamp(record);     // source_partner and the event id
 *     client.publish(referral);
 *     client.flush();
 *     for (InboxMessage m : client.poll(Duration.ofSeconds(1))) { ...; client.commit(m); }
 * }
 * }</pre>
 */
public final class PartnerClient implements AutoCloseable {
    /** What may go to an outbox. */
    public static final Set<String> PUBLISHABLE = Set.of(
            "nl.rmt.hub.ClientProfile", "nl.rmt.hub.IntakeDecision", "nl.rmt.hub.PersonalArrangement",
            "nl.rmt.hub.Referral", "nl.rmt.hub.PlacementOutcome", "nl.rmt.hub.ResponsibilityTransfer",
            "nl.rmt.hub.Vacancy");
    private static final DateTimeFormatter CE_TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Where the hub is and who the partner is. {@code keysDir} null: record security off (only
     * for a hub that runs without it). {@code kafka}: extra client settings (TLS, SASL, ...).
     */
    public record Config(
            String partnerId, String bootstrapServers, String registryUrl, String topicPrefix,
            Path keysDir, String groupId, Map<String, Object> kafka) {

        public static Config of(String partnerId, String bootstrapServers, String registryUrl) {
            return new Config(partnerId, bootstrapServers, registryUrl, "rmt", null, null, Map.of());
        }

        public Config withKeys(Path dir) {
            return new Config(partnerId, bootstrapServers, registryUrl, topicPrefix, dir, groupId, kafka);
        }

        public Config withTopicPrefix(String prefix) {
            return new Config(partnerId, bootstrapServers, registryUrl, prefix, keysDir, groupId, kafka);
        }

        public Config withGroupId(String group) {
            return new Config(partnerId, bootstrapServers, registryUrl, topicPrefix, keysDir, group, kafka);
        }

        public Config withKafka(String name, Object value) {
            Map<String, Object> more = new HashMap<>(kafka);
            more.put(name, value);
            return new Config(partnerId, bootstrapServers, registryUrl, topicPrefix, keysDir, groupId, Map.copyOf(more));
        }

        public String outbox() {
            return topicPrefix + ".partner." + partnerId + ".outbox";
        }

        public String inbox() {
            return topicPrefix + ".partner." + partnerId + ".inbox";
        }
    }

    private final Config config;
    private final RecordSecurity security;
    private final SubjectKey.Provider subjectKeys;
    private final Registry registry;
    private final WireFormat wire;
    private KafkaProducer<byte[], byte[]> producer;
    private KafkaConsumer<byte[], byte[]> consumer;

    public PartnerClient(Config config) {
        this(config, config.keysDir() == null ? null : RecordSecurity.fromStore(KeyStore.open(config.keysDir()), config.partnerId()), null);
    }

    /** {@code security} null: off; {@code subjectKeys}: opens sealed special-category fields. */
    public PartnerClient(Config config, RecordSecurity security, SubjectKey.Provider subjectKeys) {
        this.config = config;
        this.security = security;
        this.subjectKeys = subjectKeys;
        this.registry = new Registry(config.registryUrl());
        this.wire = new WireFormat(registry);
    }

    public String partnerId() {
        return config.partnerId();
    }

    public Registry registry() {
        return registry;
    }

    /** {@code record} (a copy) with this partner as source and its deterministic event id. */
    public GenericRecord stamp(GenericRecord record) {
        GenericRecord copy = AvroJson.DATA.deepCopy(record.getSchema(), record);
        copy.put("source_partner", config.partnerId());
        copy.put("event_id", EventIds.of(copy, config.partnerId()));
        return copy;
    }

    /**
     * Sends {@code record} to the outbox: Confluent wire format, CloudEvents headers, encrypted
     * to the hub and signed. Asynchronous: {@link #flush()} waits for the broker. Never publish
     * an event id twice (the hub refuses the second as {@code REPLAYED}).
     */
    public Future<RecordMetadata> publish(GenericRecord record) {
        String type = record.getSchema().getFullName();
        if (!PUBLISHABLE.contains(type)) {
            throw new HubException(type + " cannot be published to an outbox");
        }
        if (!config.partnerId().equals(String.valueOf(record.get("source_partner")))) {
            throw new HubException(type + " has source_partner " + record.get("source_partner")
                    + "; this client publishes as " + config.partnerId());
        }
        String eventId = String.valueOf(record.get("event_id"));
        if (record.get("event_id") == null || eventId.isEmpty()) {
            throw new HubException(type + " has no event_id (stamp it)");
        }
        String topic = config.outbox();
        byte[] key = recordKey(record);
        byte[] value = wire.encode(record);
        List<Header> headers = cloudEventHeaders(eventId, config.partnerId(), type, occurredAt(record));
        if (security != null) {
            RecordSecurity.Sealed sealed = security.sealOutbound(topic, key, value, headers);
            value = sealed.value();
            headers = sealed.headers();
        }
        try {
            return producer().send(new ProducerRecord<>(topic, null, key, value, headers));
        } catch (KafkaException e) {
            throw new HubException("sending to " + topic + ": " + e.getMessage(), e);
        }
    }

    /** The record key: the client pseudonym; the vacancy id of a Vacancy. */
    public static byte[] recordKey(GenericRecord record) {
        Schema schema = record.getSchema();
        String field = schema.getField("client_pseudonym") != null ? "client_pseudonym" : "vacancy_id";
        Object value = record.get(field);
        return value == null ? null : value.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Instant occurredAt(GenericRecord record) {
        Object at = record.get("occurred_at");
        return at instanceof Instant i ? i : Instant.ofEpochMilli((Long) at);
    }

    /** The CloudEvents headers of a record (protocol section 3). */
    public static List<Header> cloudEventHeaders(String eventId, String source, String type, Instant time) {
        return new ArrayList<>(List.of(
                HeaderList.text("ce_specversion", "1.0"),
                HeaderList.text("ce_id", eventId),
                HeaderList.text("ce_source", source),
                HeaderList.text("ce_type", type),
                HeaderList.text("ce_time", CE_TIME.format(time)),
                HeaderList.text("content-type", "application/avro")));
    }

    /** Waits until the broker acknowledged everything sent. */
    public void flush() {
        if (producer != null) {
            try {
                producer.flush();
            } catch (KafkaException e) {
                throw new HubException("flushing to " + config.outbox() + ": " + e.getMessage(), e);
            }
        }
    }

    /** The next inbox messages (joins the consumer group on first use; offsets are never auto-committed). */
    public List<InboxMessage> poll(Duration timeout) {
        List<InboxMessage> out = new ArrayList<>();
        try {
            for (ConsumerRecord<byte[], byte[]> raw : consumer().poll(timeout)) {
                out.add(read(raw));
            }
        } catch (KafkaException e) {
            throw new HubException("polling " + config.inbox() + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Whether the consumer group has given this client inbox partitions yet. */
    public boolean assigned() {
        return consumer != null && !consumer.assignment().isEmpty();
    }

    /** Marks messages handled: a restarted client resumes after them. */
    public void commit(Collection<InboxMessage> messages) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (InboxMessage m : messages) {
            offsets.merge(new TopicPartition(m.topic(), m.partition()), new OffsetAndMetadata(m.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        if (!offsets.isEmpty()) {
            try {
                consumer().commitSync(offsets);
            } catch (KafkaException e) {
                throw new HubException("committing offsets on " + config.inbox() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Verifies, decrypts, decodes one inbox record and opens its sealed fields where it can. */
    public InboxMessage read(ConsumerRecord<byte[], byte[]> raw) {
        List<Header> headers = HeaderList.copy(raw.headers());
        String eventId = null;
        String type = null;
        try {
            eventId = HeaderList.string(headers, "ce_id");
            type = HeaderList.string(headers, "ce_type");
            byte[] value = raw.value();
            if (security != null) {
                value = security.openInbound(raw.topic(), raw.key(), value, headers).value();
            }
            GenericRecord record = value == null ? null : openSealed(wire.decode(value));
            if (record != null) {
                type = record.getSchema().getFullName();
            }
            return new InboxMessage(raw.topic(), raw.partition(), raw.offset(), raw.key(), headers, eventId, type, record, null);
        } catch (RuntimeException e) {
            HubException error = e instanceof HubException hub ? hub : new HubException("DECODE_ERROR", e.toString(), e);
            return new InboxMessage(raw.topic(), raw.partition(), raw.offset(), raw.key(), headers, eventId, type, null, error);
        }
    }

    /** The record with the sealed fields opened whose subject key the provider has. */
    GenericRecord openSealed(GenericRecord record) {
        Schema.Field sealedField = record.getSchema().getField("sealed_fields");
        if (subjectKeys == null || sealedField == null || !(record.get("sealed_fields") instanceof Map<?, ?> tokens)) {
            return record;
        }
        String subject = String.valueOf(record.get("client_pseudonym"));
        Map<String, String> left = new HashMap<>();
        for (Map.Entry<?, ?> e : tokens.entrySet()) {
            String field = e.getKey().toString();
            String token = e.getValue().toString();
            Schema.Field target = record.getSchema().getField(field);
            var key = subjectKeys.find(subject, SealedFields.keyIdOf(token));
            if (target == null || key.isEmpty()) {
                left.put(field, token); // not granted, or the key is destroyed: the data is gone
                continue;
            }
            try {
                record.put(field, AvroJson.datum(JSON.readTree(SealedFields.open(key.get(), field, token)), target.schema()));
            } catch (IOException bad) {
                throw new HubException("field " + field + ": the sealed value is not JSON", bad);
            }
        }
        record.put("sealed_fields", left.isEmpty() ? null : left);
        return record;
    }

    private synchronized KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Properties props = base();
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            props.put(ProducerConfig.CLIENT_ID_CONFIG, "rmt-sdk-java-" + config.partnerId());
            config.kafka().forEach(props::put);
            producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    private synchronized KafkaConsumer<byte[], byte[]> consumer() {
        if (consumer == null) {
            Properties props = base();
            props.put(ConsumerConfig.GROUP_ID_CONFIG,
                    config.groupId() != null ? config.groupId() : config.topicPrefix() + ".sdk." + config.partnerId());
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.CLIENT_ID_CONFIG, "rmt-sdk-java-" + config.partnerId() + "-inbox");
            config.kafka().forEach(props::put);
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumer.subscribe(List.of(config.inbox()));
        }
        return consumer;
    }

    private Properties base() {
        Properties props = new Properties();
        props.put("bootstrap.servers", config.bootstrapServers());
        return props;
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
            producer = null;
        }
        if (consumer != null) {
            consumer.close();
            consumer = null;
        }
    }
}
