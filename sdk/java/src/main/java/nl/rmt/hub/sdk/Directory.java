package nl.rmt.hub.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The public directory ({@code directory.json}, protocol section 10): every identity's public
 * keys by key id. The hub's operators hand it to a partner out of band. (Its hub signature
 * is not checked here: take the file only from the hub's operators.)
 */
public final class Directory {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Map<String, KeyRecord> records = new LinkedHashMap<>();

    public Directory(Collection<KeyRecord> records) {
        for (KeyRecord r : records) {
            if (this.records.putIfAbsent(r.keyId(), r) != null) {
                throw new HubException("key id " + r.keyId() + " appears twice in the directory");
            }
        }
    }

    public static Directory load(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new HubException(file + ": cannot read the directory", e);
        }
    }

    /** A {@code directory.json} text: {@code {"version": 1, "keys": [entry, ...]}}. */
    public static Directory parse(String json) {
        try {
            JsonNode keys = JSON.readTree(json).path("keys");
            return new Directory(keys.isArray() ? readAll(keys) : List.of());
        } catch (IOException | RuntimeException e) {
            throw new HubException("not a public directory: " + e.getMessage(), e);
        }
    }

    private static List<KeyRecord> readAll(JsonNode keys) {
        return java.util.stream.StreamSupport.stream(keys.spliterator(), false)
                .map(Directory::entry)
                .toList();
    }

    /** One directory entry ({@code directory_entry} in docs/test-vectors/keys.json). */
    public static KeyRecord entry(JsonNode e) {
        return new KeyRecord(
                e.path("partner_id").asText(),
                e.path("kind").isNull() ? null : e.path("kind").asText(null),
                e.path("region").isNull() ? null : e.path("region").asText(null),
                e.path("key_id").asText(),
                Base64.getDecoder().decode(e.path("signing_public_key").asText()),
                Base64.getDecoder().decode(e.path("encryption_public_key").asText()),
                time(e.path("not_before").asText()),
                time(e.path("not_after").asText()),
                e.path("status").asText("active"),
                e.path("role").asText("partner"));
    }

    /** A directory entry as JSON (the format of {@code directory.json}'s {@code keys}). */
    public static String json(KeyRecord r) {
        var node = JSON.createObjectNode()
                .put("partner_id", r.partnerId())
                .put("kind", r.kind())
                .put("region", r.region())
                .put("key_id", r.keyId())
                .put("signing_public_key", Base64.getEncoder().encodeToString(r.signingPublicKey()))
                .put("encryption_public_key", Base64.getEncoder().encodeToString(r.encryptionPublicKey()))
                .put("not_before", r.notBefore().toString())
                .put("not_after", r.notAfter().toString())
                .put("status", r.status())
                .put("role", r.role());
        return node.toPrettyString();
    }

    private static Instant time(String text) {
        return OffsetDateTime.parse(text).toInstant();
    }

    public Optional<KeyRecord> find(String keyId) {
        return Optional.ofNullable(records.get(keyId));
    }

    public List<KeyRecord> keysOf(String partnerId) {
        return records.values().stream()
                .filter(r -> r.partnerId().equals(partnerId))
                .sorted(Comparator.comparing(KeyRecord::notBefore))
                .toList();
    }

    /** The active key of {@code partnerId} valid at {@code at}, the newest if several. */
    public KeyRecord current(String partnerId, Instant at) {
        List<KeyRecord> valid = keysOf(partnerId).stream().filter(r -> r.currentAt(at)).toList();
        if (valid.isEmpty()) {
            throw new HubException("KEY_UNKNOWN", partnerId + " has no active key valid at " + at, null);
        }
        return valid.get(valid.size() - 1);
    }
}
