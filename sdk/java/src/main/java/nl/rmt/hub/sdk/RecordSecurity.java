package nl.rmt.hub.sdk;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Header;

/**
 * A partner's side of record security, for any Kafka producer or consumer: seal what it
 * publishes (encrypt to the hub's current key, then sign) and open what it reads (verify the
 * hub's signature, then decrypt). Protocol sections 4-7.
 */
public final class RecordSecurity {
    public static final String HUB = "hub";

    private final Identity identity;
    private final Directory directory;
    private final Envelope.Encryptor encryptor;
    private final Envelope.Decryptor decryptor;
    private final LongSupplier clockMs;

    /** A value to send and its headers; the value is null for a tombstone. */
    public record Sealed(byte[] value, List<Header> headers) {}

    /** A verified (and decrypted) record: the plaintext (null for a tombstone) and the verdict. */
    public record Opened(byte[] value, Signatures.Verdict verdict) {}

    /**
     * {@code identity}: the partner's current keys; {@code olderGenerations}: keys it still holds
     * to decrypt what was encrypted before a rotation.
     */
    public RecordSecurity(Identity identity, List<Identity> olderGenerations, Directory directory) {
        this(identity, olderGenerations, directory, Crypto::random, System::currentTimeMillis);
    }

    /** With a fixed random source and clock: only to reproduce test vectors. */
    public RecordSecurity(
            Identity identity, List<Identity> olderGenerations, Directory directory,
            IntFunction<byte[]> random, LongSupplier clockMs) {
        this.identity = identity;
        this.directory = directory;
        this.clockMs = clockMs;
        this.encryptor = new Envelope.Encryptor(random, clockMs);
        List<Identity> all = new ArrayList<>(olderGenerations);
        all.add(identity);
        this.decryptor = new Envelope.Decryptor(all);
    }

    /** The partner's keys from a key store directory ({@link KeyStore}). */
    public static RecordSecurity fromStore(KeyStore store, String partnerId) {
        return new RecordSecurity(store.current(partnerId), store.all(partnerId), store.directory());
    }

    public Identity identity() {
        return identity;
    }

    public Directory directory() {
        return directory;
    }

    Envelope.Decryptor decryptor() {
        return decryptor;
    }

    /** (value, headers) to publish to the outbox: encrypted to the hub's current key, then signed. */
    public Sealed sealOutbound(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
        String eventId = HeaderList.string(headers, "ce_id");
        if (eventId == null || eventId.isEmpty()) {
            throw new HubException("a sealed record needs its ce_id header");
        }
        List<Header> out = HeaderList.copy(headers);
        byte[] sealed = value;
        if (value != null) {
            KeyRecord hub = directory.current(HUB, Instant.ofEpochMilli(clockMs.getAsLong()));
            Envelope.Sealed encrypted = encryptor.encrypt(hub, topic, key, value, eventId);
            sealed = encrypted.value();
            out = HeaderList.replace(out, encrypted.headers());
        }
        return new Sealed(sealed, Signatures.sign(identity, topic, key, sealed, out, clockMs.getAsLong()));
    }

    /** Only sign (a value the hub reads in the clear). */
    public List<Header> sign(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
        return Signatures.sign(identity, topic, key, value, headers, clockMs.getAsLong());
    }

    /** Verify the hub's signature, then decrypt; {@link HubException} with the reason if not. */
    public Opened openInbound(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
        Signatures.Verdict verdict =
                Signatures.verify(directory, topic, key, value, headers, HUB, clockMs.getAsLong());
        if (value == null) {
            return new Opened(null, verdict);
        }
        if (HeaderList.value(headers, Envelope.ENC_ALG) == null) {
            throw new HubException("DECODE_ERROR", "an inbox record on " + topic + " is not encrypted", null);
        }
        return new Opened(decryptor.decrypt(topic, key, value, headers, null), verdict);
    }
}
