package nl.rmt.hub.sdk;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;

/**
 * The Python SDK's deterministic event ids (protocol section 9):
 * {@code UUIDv5(NAMESPACE, partner + "\x1f" + hex SHA-256 over the parts)}, each part as its
 * length (8 bytes big-endian) and UTF-8 bytes; parts = record type, business key, the
 * record's JSON without {@code event_id} and fields at their default. The same record from
 * the same partner gets the same id in Java and in Python.
 */
public final class EventIds {
    public static final UUID NAMESPACE = UUID.fromString("6f1d3c2e-5b7a-5e0c-9a43-2d8e61b0c7f4");
    private static final String SEP = "\u001f";
    private static final Map<String, List<String>> KEY_FIELDS = Map.of(
            "nl.rmt.hub.ClientProfile", List.of("client_pseudonym"),
            "nl.rmt.hub.IntakeDecision", List.of("intake_id"),
            "nl.rmt.hub.PersonalArrangement", List.of("arrangement_id", "revision"),
            "nl.rmt.hub.Referral", List.of("referral_id"),
            "nl.rmt.hub.PlacementOutcome", List.of("outcome_id"),
            "nl.rmt.hub.ResponsibilityTransfer", List.of("transfer_id"),
            "nl.rmt.hub.Vacancy", List.of("vacancy_id"),
            "nl.rmt.hub.ConsentChange", List.of("consent_id"),
            "nl.rmt.hub.MonitorEvent", List.of("monitor_pseudonym", "event_type"));

    private EventIds() {}

    /** What the record is about, e.g. the client pseudonym of a profile. */
    public static String businessKey(GenericRecord record) {
        return KEY_FIELDS.getOrDefault(record.getSchema().getFullName(), List.of()).stream()
                .map(name -> String.valueOf(record.get(name)))
                .collect(Collectors.joining(SEP));
    }

    /** The deterministic event id of {@code record} published by {@code partnerId}. */
    public static String of(GenericRecord record, String partnerId) {
        String content = AvroJson.json(record, true, Set.of("event_id"));
        return derive(partnerId, record.getSchema().getFullName(), businessKey(record), content);
    }

    /** A UUIDv5 event id over the partner id and {@code parts}. */
    public static String derive(String partnerId, String... parts) {
        MessageDigest digest = sha256();
        for (String part : parts) {
            byte[] data = part.getBytes(StandardCharsets.UTF_8);
            digest.update(ByteBuffer.allocate(8).putLong(data.length).array());
            digest.update(data);
        }
        return uuid5(NAMESPACE, partnerId + SEP + HexFormat.of().formatHex(digest.digest())).toString();
    }

    /** RFC 4122 version 5 (SHA-1, name-based). */
    public static UUID uuid5(UUID namespace, String name) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(ByteBuffer.allocate(16)
                    .putLong(namespace.getMostSignificantBits())
                    .putLong(namespace.getLeastSignificantBits())
                    .array());
            byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
            hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
            hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
            ByteBuffer bits = ByteBuffer.wrap(hash, 0, 16);
            return new UUID(bits.getLong(), bits.getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
