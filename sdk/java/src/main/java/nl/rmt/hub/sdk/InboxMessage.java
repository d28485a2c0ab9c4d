package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Header;

/**
 * One record of the inbox: verified, decrypted and decoded ({@link #record}), or the reason
 * it was not ({@link #error}: a record to set aside, never to act on). {@code eventId} is
 * the delivery's {@code ce_id}: drop a second message with the same id (the hub writes at
 * least once).
 */
public record InboxMessage(
        String topic,
        int partition,
        long offset,
        byte[] key,
        List<Header> headers,
        String eventId,
        String type,
        GenericRecord record,
        HubException error) {

    public static final String TOMBSTONE = "nl.rmt.hub.Tombstone";
    public static final String REJECTION_NOTICE = "nl.rmt.hub.RejectionNotice";
    public static final String ERASURE_NOTICE = "nl.rmt.hub.ErasureNotice";

    public enum Kind {
        /** A record for you (a person record carries only the fields you may receive). */
        RECORD,
        /** A record you published was refused: {@link #rejection()}. */
        REJECTION,
        /** A consent under which you received data ended: {@link #erasure()}. */
        ERASURE,
        /** Erase everything you received from the hub about {@link #subject()}. */
        TOMBSTONE,
        /** It did not verify, decrypt or decode: {@link #error()}. */
        INVALID
    }

    /** A refused record of yours (protocol section 8): fix the cause, publish a corrected one. */
    public record Rejection(
            String reason, String message, String field, String rejectedEventId, String recordType,
            String sourceTopic, int sourcePartition, long sourceOffset, String recordKey) {}

    /**
     * An ended consent: {@code stillCovered} false means a tombstone follows (erase all about
     * the subject); true: erase only what came solely under {@code consentId}.
     */
    public record Erasure(
            String clientPseudonym, String consentId, String change, Instant effectiveAt, boolean stillCovered) {}

    public Kind kind() {
        if (error != null) {
            return Kind.INVALID;
        }
        if (record == null) {
            return Kind.TOMBSTONE;
        }
        return switch (type == null ? "" : type) {
            case REJECTION_NOTICE -> Kind.REJECTION;
            case ERASURE_NOTICE -> Kind.ERASURE;
            default -> Kind.RECORD;
        };
    }

    public boolean ok() {
        return error == null;
    }

    /** The record key as text: the client pseudonym of a person record. */
    public String subject() {
        return key == null ? "" : new String(key, StandardCharsets.UTF_8);
    }

    public Optional<Rejection> rejection() {
        if (kind() != Kind.REJECTION) {
            return Optional.empty();
        }
        return Optional.of(new Rejection(
                text("reason"), text("message"), text("field"), text("rejected_event_id"), text("record_type"),
                text("source_topic"), (Integer) record.get("source_partition"), (Long) record.get("source_offset"),
                text("record_key")));
    }

    public Optional<Erasure> erasure() {
        if (kind() != Kind.ERASURE) {
            return Optional.empty();
        }
        return Optional.of(new Erasure(
                text("client_pseudonym"), text("consent_id"), text("change"),
                (Instant) record.get("effective_at"), (Boolean) record.get("still_covered")));
    }

    private String text(String field) {
        Object value = record.get(field);
        return value == null ? null : value.toString();
    }
}
