package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Record signatures, {@code ed25519/v1} (protocol section 4): Ed25519 over the topic, key,
 * value, key id, signing time and every {@code ce_*}, {@code rmt-*} and {@code content-type}
 * header but the four {@code rmt-sig*}, sorted by (name, value) bytewise.
 */
public final class Signatures {
    public static final String ALGORITHM = "ed25519/v1";
    static final String LABEL = "rmt-hub/record-signature/v1";
    static final String SIG_ALG = "rmt-sig-alg";
    static final String SIG_KEY = "rmt-sig-key";
    static final String SIG_TIME = "rmt-sig-time";
    static final String SIG = "rmt-sig";
    private static final Set<String> SIG_HEADERS = Set.of(SIG_ALG, SIG_KEY, SIG_TIME, SIG);
    private static final Duration MAX_FUTURE_SKEW = Duration.ofMinutes(5);
    private static final Duration EXPIRY_GRACE = Duration.ofMinutes(10);

    /** An accepted record: who signed it, with which key, its event id and signing time. */
    public record Verdict(String signer, String keyId, String eventId, long signedAtMs) {}

    private Signatures() {}

    private static boolean covered(String name) {
        String lowered = name.toLowerCase(Locale.ROOT);
        return !SIG_HEADERS.contains(lowered)
                && (lowered.startsWith("ce_") || lowered.startsWith("rmt-") || lowered.equals("content-type"));
    }

    /** The covered headers in canonical order; a repeated name is refused. */
    static List<Header> coveredHeaders(Iterable<Header> headers) {
        List<Header> picked = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Header h : HeaderList.copy(headers)) {
            if (!covered(h.key())) {
                continue;
            }
            if (!names.add(h.key())) {
                throw new HubException("SIGNATURE_INVALID", "ambiguous record: header '" + h.key() + "' repeated", null);
            }
            picked.add(h);
        }
        picked.sort((a, b) -> {
            int byName = Arrays.compareUnsigned(utf8(a.key()), utf8(b.key()));
            return byName != 0 ? byName : Arrays.compareUnsigned(a.value(), b.value());
        });
        return picked;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The exact bytes an {@code ed25519/v1} signature is made over. */
    public static byte[] signedBytes(
            String topic, byte[] key, byte[] value, String keyId, long signedAtMs, Iterable<Header> headers) {
        List<Header> covered = coveredHeaders(headers);
        Canonical out = Canonical.label(LABEL)
                .item(topic)
                .optional(key)
                .optional(value)
                .item(keyId)
                .u64(signedAtMs)
                .u32(covered.size());
        for (Header h : covered) {
            out.item(h.key()).item(h.value());
        }
        return out.bytes();
    }

    /**
     * {@code headers} with the four signature headers set (old ones replaced). They must hold
     * everything the record is sent with: a ce_/rmt- header added later breaks the signature.
     */
    public static List<Header> sign(
            Identity signer, String topic, byte[] key, byte[] value, Iterable<Header> headers, long nowMs) {
        if (HeaderList.value(headers, "ce_id") == null || HeaderList.value(headers, "ce_source") == null) {
            throw new HubException("a signed record needs its ce_id and ce_source headers");
        }
        byte[] signature = signer.sign(signedBytes(topic, key, value, signer.keyId(), nowMs, headers));
        return HeaderList.replace(headers, List.of(
                HeaderList.text(SIG_ALG, ALGORITHM),
                HeaderList.text(SIG_KEY, signer.keyId()),
                HeaderList.text(SIG_TIME, Long.toString(nowMs)),
                new RecordHeader(SIG, Base64.getEncoder().encode(signature))));
    }

    /**
     * Verifies a record read from {@code topic} that only {@code expectedSigner} may write (the
     * hub for an inbox), as the hub does, in the protocol's order; throws {@link HubException}
     * with the dead-letter reason. The replay check is the reader's: drop duplicate ce_ids.
     */
    public static Verdict verify(
            Directory directory, String topic, byte[] key, byte[] value, Iterable<Header> headers,
            String expectedSigner, long nowMs) {
        List<Header> covered = coveredHeaders(headers);
        byte[] sig = HeaderList.value(headers, SIG);
        String alg = HeaderList.string(headers, SIG_ALG);
        String keyId = HeaderList.string(headers, SIG_KEY);
        String time = HeaderList.string(headers, SIG_TIME);
        if (sig == null) {
            throw refused("UNSIGNED", "the record has no rmt-sig header");
        }
        String eventId = HeaderList.string(covered, "ce_id");
        String source = HeaderList.string(covered, "ce_source");
        if (!ALGORITHM.equals(alg)) {
            throw refused("SIGNATURE_INVALID", "unsupported rmt-sig-alg " + alg);
        }
        if (keyId == null || keyId.isEmpty() || time == null || !time.matches("[0-9]{1,18}")) {
            throw refused("SIGNATURE_INVALID", "rmt-sig-key or rmt-sig-time missing or malformed");
        }
        if (eventId == null || eventId.isEmpty() || source == null || source.isEmpty()) {
            throw refused("SIGNATURE_INVALID", "a signed record needs ce_id and ce_source");
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(sig);
        } catch (IllegalArgumentException e) {
            signature = new byte[0];
        }
        if (signature.length != 64) {
            throw refused("SIGNATURE_INVALID", "rmt-sig is not a base64 Ed25519 signature");
        }
        KeyRecord record = directory.find(keyId)
                .orElseThrow(() -> refused("KEY_UNKNOWN", "key " + keyId + " is not in the directory"));
        if (record.revoked()) {
            throw refused("KEY_REVOKED", "key " + keyId + " of " + record.partnerId() + " is revoked");
        }
        if (!record.partnerId().equals(source)) {
            throw refused("SIGNER_MISMATCH", "signed with a key of " + record.partnerId() + ", but ce_source says " + source);
        }
        if (expectedSigner != null && !record.partnerId().equals(expectedSigner)) {
            throw refused("SIGNER_MISMATCH", "signed by " + record.partnerId() + ", but only " + expectedSigner + " may write " + topic);
        }
        long signedAt = Long.parseLong(time);
        byte[] data = signedBytes(topic, key, value, keyId, signedAt, covered);
        if (!Crypto.verify(record.signingPublicKey(), signature, data)) {
            throw refused("SIGNATURE_INVALID", "the signature does not verify: forged, or topic, key, value, "
                    + "event id or headers changed after signing");
        }
        if (signedAt > nowMs + MAX_FUTURE_SKEW.toMillis()) {
            throw refused("SIGNATURE_INVALID", "signed in the future (beyond the allowed clock skew)");
        }
        long notBefore = record.notBefore().toEpochMilli();
        long notAfter = record.notAfter().toEpochMilli();
        if (signedAt < notBefore || signedAt > notAfter) {
            throw refused("KEY_EXPIRED", "signed at " + Instant.ofEpochMilli(signedAt) + ", outside the validity of key " + keyId);
        }
        if (nowMs > notAfter + EXPIRY_GRACE.toMillis()) {
            throw refused("KEY_EXPIRED", "key " + keyId + " expired at " + record.notAfter());
        }
        return new Verdict(record.partnerId(), keyId, eventId, signedAt);
    }

    private static HubException refused(String reason, String detail) {
        return new HubException(reason, detail, null);
    }
}
