package nl.rmt.hub.sdk;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Header;

/**
 * Envelope encryption {@code x25519-hkdf-sha256/aes-256-gcm/v1} (protocol section 5): a data
 * key (DEK) per recipient key, wrapped for the recipient's X25519 key, reused for at most
 * 100,000 records and one hour; every value {@code nonce | AES-256-GCM(DEK, nonce, value, aad)}.
 */
public final class Envelope {
    public static final String ALGORITHM = "x25519-hkdf-sha256/aes-256-gcm/v1";
    static final String ENC_ALG = "rmt-enc-alg";
    static final String ENC_KEY = "rmt-enc-key";
    static final String ENC_DEK = "rmt-enc-dek";
    private static final String WRAP_LABEL = "rmt-hub/dek-wrap/v1";
    private static final String RECORD_LABEL = "rmt-hub/record-encryption/v1";
    private static final String HEADER_LABEL = "rmt-hub/header-encryption/v1";
    private static final int BLOB = 1 + 16 + 32 + 12 + 48;
    static final int MAX_RECORDS = 100_000;
    static final Duration MAX_AGE = Duration.ofHours(1);

    /** A ciphertext and its three {@code rmt-enc-*} headers. */
    public record Sealed(byte[] value, List<Header> headers) {}

    private Envelope() {}

    static byte[] kek(byte[] shared, byte[] ephemeralPublic, byte[] recipientPublic, String keyId) {
        byte[] info = Crypto.concat(ascii(WRAP_LABEL), ascii(keyId));
        return Crypto.hkdfSha256(shared, Crypto.concat(ephemeralPublic, recipientPublic), info, 32);
    }

    static byte[] wrapAad(byte[] dekId, String keyId) {
        return Canonical.label(WRAP_LABEL).item(dekId).item(keyId).bytes();
    }

    static byte[] recordAad(String topic, byte[] key, String eventId, byte[] dekId, String keyId) {
        return Canonical.label(RECORD_LABEL).item(topic).optional(key).item(eventId).item(dekId).item(keyId).bytes();
    }

    static byte[] headerAad(String name, String topic, byte[] key, String eventId, byte[] dekId, String keyId) {
        return Canonical.label(HEADER_LABEL).item(name).item(topic).optional(key).item(eventId).item(dekId)
                .item(keyId).bytes();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** Encrypts values for recipients, one live DEK per recipient key (thread-safe). */
    public static final class Encryptor {
        private final IntFunction<byte[]> random;
        private final LongSupplier clockMs;
        private final Map<String, Dek> deks = new HashMap<>();

        private record Dek(byte[] dek, byte[] dekId, String header, long created, int[] used) {}

        public Encryptor() {
            this(Crypto::random, System::currentTimeMillis);
        }

        /** {@code random}: n -> n random bytes (fixed only to reproduce test vectors). */
        public Encryptor(IntFunction<byte[]> random, LongSupplier clockMs) {
            this.random = random;
            this.clockMs = clockMs;
        }

        private Dek newDek(KeyRecord recipient) {
            byte[] dek = random.apply(32);
            byte[] dekId = random.apply(16);
            var ephemeral = Crypto.x25519Private(random.apply(32));
            byte[] ephemeralPublic = Crypto.x25519PublicOf(ephemeral);
            byte[] recipientPublic = recipient.encryptionPublicKey();
            byte[] shared = Crypto.x25519(ephemeral, recipientPublic);
            byte[] kek = kek(shared, ephemeralPublic, recipientPublic, recipient.keyId());
            byte[] nonce = random.apply(12);
            byte[] wrapped = Crypto.aesGcm(true, kek, nonce, dek, wrapAad(dekId, recipient.keyId()));
            byte[] blob = Crypto.concat(new byte[] {1}, dekId, ephemeralPublic, nonce, wrapped);
            return new Dek(dek, dekId, Base64.getEncoder().encodeToString(blob), clockMs.getAsLong(), new int[1]);
        }

        private synchronized Dek dekFor(KeyRecord recipient) {
            Dek dek = deks.get(recipient.keyId());
            long now = clockMs.getAsLong();
            if (dek == null || dek.used[0] >= MAX_RECORDS || now - dek.created >= MAX_AGE.toMillis()) {
                dek = newDek(recipient);
                deks.put(recipient.keyId(), dek);
            }
            dek.used[0]++;
            return dek;
        }

        public Sealed encrypt(KeyRecord recipient, String topic, byte[] key, byte[] value, String eventId) {
            if (recipient.revoked()) {
                throw new HubException("key " + recipient.keyId() + " of " + recipient.partnerId() + " is revoked");
            }
            if (eventId == null || eventId.isEmpty()) {
                throw new HubException("an encrypted record needs its event id");
            }
            Dek dek = dekFor(recipient);
            byte[] nonce = random.apply(12);
            byte[] aad = recordAad(topic, key, eventId, dek.dekId, recipient.keyId());
            byte[] ciphertext = Crypto.concat(nonce, Crypto.aesGcm(true, dek.dek, nonce, value, aad));
            return new Sealed(ciphertext, List.of(
                    HeaderList.text(ENC_ALG, ALGORITHM),
                    HeaderList.text(ENC_KEY, recipient.keyId()),
                    HeaderList.text(ENC_DEK, dek.header)));
        }
    }

    /** Decrypts values encrypted to any of a recipient's key generations; caches unwrapped DEKs. */
    public static final class Decryptor {
        private final Map<String, Identity> keys = new HashMap<>();
        private final Map<String, byte[][]> cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, byte[][]> eldest) {
                return size() > 1024;
            }
        };

        public Decryptor(Collection<Identity> identities) {
            identities.forEach(i -> keys.put(i.keyId(), i));
            if (keys.isEmpty()) {
                throw new HubException("a decryptor needs at least one private key");
            }
        }

        private synchronized byte[][] unwrap(String keyId, String header) {
            String cacheKey = keyId + "/" + header;
            byte[][] hit = cache.get(cacheKey);
            if (hit != null) {
                return hit;
            }
            byte[] blob;
            try {
                blob = Base64.getDecoder().decode(header);
            } catch (IllegalArgumentException e) {
                throw failed("rmt-enc-dek is not base64");
            }
            if (blob.length != BLOB || blob[0] != 1) {
                throw failed("rmt-enc-dek has the wrong length or version");
            }
            ByteBuffer in = ByteBuffer.wrap(blob, 1, BLOB - 1);
            byte[] dekId = take(in, 16);
            byte[] ephemeralPublic = take(in, 32);
            byte[] nonce = take(in, 12);
            byte[] wrapped = take(in, 48);
            Identity own = keys.get(keyId);
            byte[] dek;
            try {
                byte[] shared = Crypto.x25519(own.encryptionKey(), ephemeralPublic);
                byte[] kek = kek(shared, ephemeralPublic, own.encryptionPublicKey(), keyId);
                dek = Crypto.aesGcm(false, kek, nonce, wrapped, wrapAad(dekId, keyId));
            } catch (HubException e) {
                throw failed("the wrapped data key does not open with this key");
            }
            byte[][] entry = {dekId, dek};
            cache.put(cacheKey, entry);
            return entry;
        }

        private static byte[] take(ByteBuffer in, int n) {
            byte[] out = new byte[n];
            in.get(out);
            return out;
        }

        /** The plaintext of {@code value}; {@code eventId} null: the ce_id header. */
        public byte[] decrypt(String topic, byte[] key, byte[] value, Iterable<Header> headers, String eventId) {
            String alg = HeaderList.string(headers, ENC_ALG);
            String keyId = HeaderList.string(headers, ENC_KEY);
            String dekHeader = HeaderList.string(headers, ENC_DEK);
            String boundTo = eventId != null ? eventId : HeaderList.string(headers, "ce_id");
            if (alg == null) {
                throw failed("the record carries no rmt-enc-alg header");
            }
            if (!ALGORITHM.equals(alg)) {
                throw failed("unsupported envelope algorithm " + alg);
            }
            if (keyId == null || keyId.isEmpty() || dekHeader == null) {
                throw failed("rmt-enc-key or rmt-enc-dek is missing");
            }
            if (!keys.containsKey(keyId)) {
                throw failed("encrypted to key " + keyId + ", which this reader does not hold");
            }
            if (boundTo == null || boundTo.isEmpty()) {
                throw failed("no event id (ce_id) to bind the ciphertext to");
            }
            byte[][] dek = unwrap(keyId, dekHeader);
            if (value.length < 12 + 16) {
                throw failed("the ciphertext is too short");
            }
            byte[] aad = recordAad(topic, key, boundTo, dek[0], keyId);
            try {
                return Crypto.aesGcm(false, dek[1], Arrays.copyOf(value, 12), Arrays.copyOfRange(value, 12, value.length), aad);
            } catch (HubException e) {
                throw failed("the value does not decrypt: ciphertext, topic, key or event id altered");
            }
        }

        /**
         * The plaintext of header {@code name} encrypted under the record's data key (e.g. the
         * delivery's disclosure, {@code rmt-enc-disclosure}); null when the record has no such
         * header. Call after {@link #decrypt}: the same headers and event id.
         */
        public byte[] decryptHeader(String name, String topic, byte[] key, Iterable<Header> headers, String eventId) {
            String sealed = HeaderList.string(headers, name);
            if (sealed == null) {
                return null;
            }
            String keyId = HeaderList.string(headers, ENC_KEY);
            String dekHeader = HeaderList.string(headers, ENC_DEK);
            String boundTo = eventId != null ? eventId : HeaderList.string(headers, "ce_id");
            if (keyId == null || !keys.containsKey(keyId) || dekHeader == null || boundTo == null) {
                throw failed(name + " is encrypted to a key this reader does not hold");
            }
            byte[][] dek = unwrap(keyId, dekHeader);
            byte[] blob;
            try {
                blob = Base64.getDecoder().decode(sealed);
            } catch (IllegalArgumentException e) {
                throw failed(name + " is not base64");
            }
            if (blob.length < 12 + 16) {
                throw failed(name + " is too short");
            }
            byte[] aad = headerAad(name, topic, key, boundTo, dek[0], keyId);
            try {
                return Crypto.aesGcm(false, dek[1], Arrays.copyOf(blob, 12), Arrays.copyOfRange(blob, 12, blob.length), aad);
            } catch (HubException e) {
                throw failed(name + " does not decrypt: moved to another header, record or topic, or altered");
            }
        }

        private static HubException failed(String detail) {
            return new HubException("DECODE_ERROR", detail, null);
        }
    }
}
