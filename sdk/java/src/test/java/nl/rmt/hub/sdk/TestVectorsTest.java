package nl.rmt.hub.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/**
 * Every vector of docs/test-vectors/ (generated from the Python implementation): the SDK
 * recomputes each output from the inputs (keys, the "random" bytes drawn, the fixed clock)
 * and opens and verifies each output with the keys alone.
 */
class TestVectorsTest {
    static final Path VECTORS = Path.of(System.getProperty("rmt.repo", "../..")).resolve("docs/test-vectors");
    static final Set<String> CHECKED = Set.of(
            "keys.json", "signatures.json", "envelopes.json", "records.json", "sealed-fields.json",
            "subject-key-grants.json", "disclosures.json", "pseudonyms.json", "event-ids.json");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HexFormat HEX = HexFormat.of();

    static JsonNode vectors(String name) {
        try {
            return JSON.readTree(VECTORS.resolve(name).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] hex(JsonNode node) {
        return node == null || node.isNull() ? null : HEX.parseHex(node.asText());
    }

    static Map<String, Identity> identities() {
        Map<String, Identity> out = new HashMap<>();
        for (JsonNode i : vectors("keys.json").path("identities")) {
            out.put(i.path("partner_id").asText(), Identity.of(i.path("partner_id").asText(),
                    hex(i.path("signing_private_key_hex")), hex(i.path("encryption_private_key_hex"))));
        }
        return out;
    }

    static Directory directory() {
        List<KeyRecord> records = new ArrayList<>();
        vectors("keys.json").path("identities").forEach(i -> records.add(Directory.entry(i.path("directory_entry"))));
        return new Directory(records);
    }

    static List<Header> headers(JsonNode pairs) {
        List<Header> out = new ArrayList<>();
        pairs.forEach(p -> out.add(HeaderList.text(p.get(0).asText(), p.get(1).asText())));
        return out;
    }

    static List<List<String>> pairs(List<Header> headers) {
        return headers.stream()
                .map(h -> List.of(h.key(), new String(h.value(), StandardCharsets.UTF_8)))
                .toList();
    }

    static List<List<String>> pairs(JsonNode node) {
        return pairs(headers(node));
    }

    /** The vector's "random" bytes, handed out in order, each of the length asked for. */
    static IntFunction<byte[]> randomOf(Deque<byte[]> drawn) {
        return n -> {
            byte[] next = drawn.removeFirst();
            assertEquals(n, next.length, "the random bytes are drawn in the vector's order");
            return next;
        };
    }

    static Deque<byte[]> drawn(JsonNode randomHex) {
        Deque<byte[]> out = new ArrayDeque<>();
        randomHex.forEach(r -> out.add(HEX.parseHex(r.asText())));
        return out;
    }

    @Test
    void everyVectorFileIsChecked() throws IOException {
        try (Stream<Path> files = Files.list(VECTORS)) {
            Set<String> names = new TreeSet<>();
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).forEach(names::add);
            assertEquals(new TreeSet<>(CHECKED), names);
        }
    }

    @Test
    void keys() {
        JsonNode keys = vectors("keys.json");
        Map<String, Identity> identities = identities();
        for (JsonNode i : keys.path("identities")) {
            Identity made = identities.get(i.path("partner_id").asText());
            byte[] signing = made.signingPublicKey();
            byte[] encryption = made.encryptionPublicKey();
            assertEquals(i.path("signing_public_key_b64").asText(), Base64.getEncoder().encodeToString(signing));
            assertEquals(i.path("encryption_public_key_b64").asText(), Base64.getEncoder().encodeToString(encryption));
            byte[] label = keys.path("key_id_label").asText().getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(hex(i.path("key_id_input_hex")), Crypto.concat(label, signing, encryption));
            assertEquals(i.path("key_id").asText(), made.keyId());
            KeyRecord entry = Directory.entry(i.path("directory_entry"));
            assertEquals(made.keyId(), entry.keyId());
            assertArrayEquals(signing, entry.signingPublicKey());
            assertArrayEquals(encryption, entry.encryptionPublicKey());
        }
    }

    @Test
    void signatures() {
        Map<String, Identity> identities = identities();
        Directory directory = directory();
        for (JsonNode c : vectors("signatures.json").path("cases")) {
            Identity signer = identities.get(c.path("signer").asText());
            String topic = c.path("topic").asText();
            byte[] key = hex(c.path("key_hex"));
            byte[] value = hex(c.path("value_hex"));
            long at = c.path("signed_at_ms").asLong();
            List<Header> in = headers(c.path("headers"));
            assertArrayEquals(hex(c.path("signed_bytes_hex")),
                    Signatures.signedBytes(topic, key, value, signer.keyId(), at, in), c.path("name").asText());
            List<Header> out = Signatures.sign(signer, topic, key, value, in, at);
            assertEquals(pairs(c.path("headers_out")), pairs(out));
            assertEquals(c.path("signature_b64").asText(), HeaderList.string(out, "rmt-sig"));

            List<Header> given = headers(c.path("headers_out"));
            Signatures.Verdict verdict = Signatures.verify(directory, topic, key, value, given, signer.partnerId(), at);
            assertEquals(signer.partnerId(), verdict.signer());
            HubException moved = assertThrows(HubException.class,
                    () -> Signatures.verify(directory, topic + "x", key, value, given, signer.partnerId(), at));
            assertEquals("SIGNATURE_INVALID", moved.reason());
            HubException foreign = assertThrows(HubException.class,
                    () -> Signatures.verify(directory, topic, key, value, given, "someone-else", at));
            assertEquals("SIGNER_MISMATCH", foreign.reason());
        }
    }

    @Test
    void envelopes() {
        Map<String, Identity> identities = identities();
        Directory directory = directory();
        Deque<byte[]> random = new ArrayDeque<>();
        Envelope.Encryptor encryptor = new Envelope.Encryptor(randomOf(random), () -> 0L);
        for (JsonNode c : vectors("envelopes.json").path("cases")) {
            Identity recipient = identities.get(c.path("recipient").asText());
            KeyRecord record = directory.find(c.path("recipient_key_id").asText()).orElseThrow();
            String topic = c.path("topic").asText();
            byte[] key = hex(c.path("key_hex"));
            String eventId = c.path("event_id").asText();
            byte[] plain = hex(c.path("plaintext_hex"));
            random.addAll(drawn(c.path("random_hex")));
            Envelope.Sealed sealed = encryptor.encrypt(record, topic, key, plain, eventId);
            assertEquals(0, random.size(), "every random byte of the vector was drawn");
            assertEquals(c.path("ciphertext_hex").asText(), HEX.formatHex(sealed.value()), c.path("name").asText());
            assertEquals(pairs(c.path("headers_out")), pairs(sealed.headers()));
            if (c.has("dek_id_hex")) {
                byte[] dekId = hex(c.path("dek_id_hex"));
                byte[] ephemeralPublic = hex(c.path("ephemeral_public_key_hex"));
                byte[] shared = Crypto.x25519(Crypto.x25519Private(hex(c.path("ephemeral_private_key_hex"))),
                        recipient.encryptionPublicKey());
                assertArrayEquals(ephemeralPublic,
                        Crypto.x25519PublicOf(Crypto.x25519Private(hex(c.path("ephemeral_private_key_hex")))));
                assertArrayEquals(hex(c.path("shared_secret_hex")), shared);
                assertArrayEquals(hex(c.path("kek_salt_hex")), Crypto.concat(ephemeralPublic, recipient.encryptionPublicKey()));
                assertArrayEquals(hex(c.path("kek_info_hex")),
                        ("rmt-hub/dek-wrap/v1" + recipient.keyId()).getBytes(StandardCharsets.US_ASCII));
                assertArrayEquals(hex(c.path("kek_hex")),
                        Envelope.kek(shared, ephemeralPublic, recipient.encryptionPublicKey(), recipient.keyId()));
                assertArrayEquals(hex(c.path("wrap_aad_hex")), Envelope.wrapAad(dekId, recipient.keyId()));
                assertArrayEquals(hex(c.path("record_aad_hex")),
                        Envelope.recordAad(topic, key, eventId, dekId, recipient.keyId()));
            }
            Envelope.Decryptor decryptor = new Envelope.Decryptor(List.of(recipient));
            List<Header> headers = headers(c.path("headers_out"));
            assertArrayEquals(plain, decryptor.decrypt(topic, key, hex(c.path("ciphertext_hex")), headers, eventId));
            HubException moved = assertThrows(HubException.class,
                    () -> decryptor.decrypt(topic, key, hex(c.path("ciphertext_hex")), headers, eventId + "x"));
            assertEquals("DECODE_ERROR", moved.reason());
        }
    }

    @Test
    void disclosures() {
        JsonNode c = vectors("disclosures.json");
        Identity recipient = identities().get(c.path("recipient").asText());
        String topic = c.path("topic").asText();
        byte[] key = hex(c.path("key_hex"));
        String eventId = c.path("event_id").asText();
        String name = c.path("header_name").asText();
        byte[] dekId = hex(c.path("dek_id_hex"));
        assertArrayEquals(hex(c.path("header_aad_hex")),
                Envelope.headerAad(name, topic, key, eventId, dekId, recipient.keyId()));
        List<Header> headers = headers(c.path("headers"));
        Envelope.Decryptor decryptor = new Envelope.Decryptor(List.of(recipient));
        assertArrayEquals(hex(c.path("plaintext_hex")),
                decryptor.decrypt(topic, key, hex(c.path("value_hex")), headers, eventId));
        assertArrayEquals(hex(c.path("disclosure_hex")), decryptor.decryptHeader(name, topic, key, headers, eventId));
        HubException moved = assertThrows(HubException.class,
                () -> decryptor.decryptHeader(name, topic + "x", key, headers, eventId));
        assertEquals("DECODE_ERROR", moved.reason());
        assertEquals(null, decryptor.decryptHeader("rmt-enc-other", topic, key, headers, eventId));
    }

    @Test
    void records() throws IOException {
        JsonNode file = vectors("records.json");
        Map<String, Identity> identities = identities();
        Directory directory = directory();
        Schema schema = Schemas.of("nl.rmt.hub.ClientProfile");
        GenericRecord profile = AvroJson.record(file.path("record_json"), schema);
        for (JsonNode c : file.path("cases")) {
            String topic = c.path("topic").asText();
            byte[] key = hex(c.path("key_hex"));
            byte[] plain = hex(c.path("plaintext_hex"));
            long at = c.path("signed_at_ms").asLong();
            Identity signer = identities.get(c.path("signer").asText());
            Identity recipient = identities.get(c.path("recipient").asText());
            // the plaintext is the example record, Confluent-framed with schema id 7
            assertArrayEquals(plain, WireFormat.frame(7, profile, schema));
            GenericRecord decoded = WireFormat.decode(schema, plain);
            assertEquals(file.path("record_json"), JSON.readTree(AvroJson.json(decoded, false, Set.of())));

            // recomputed: encrypt to the recipient's current key, then sign
            Deque<byte[]> random = drawn(c.path("random_hex"));
            Envelope.Sealed sealed = new Envelope.Encryptor(randomOf(random), () -> at).encrypt(
                    directory.current(recipient.partnerId(), java.time.Instant.ofEpochMilli(at)),
                    topic, key, plain, HeaderList.string(headers(c.path("headers_in")), "ce_id"));
            List<Header> out = headers(c.path("headers_in"));
            if (signer.partnerId().equals(RecordSecurity.HUB)) { // a delivery names its origin
                JsonNode published = file.path("cases").get(0);
                Signatures.Verdict origin = Signatures.verify(directory, published.path("topic").asText(),
                        key, hex(published.path("value_hex")), headers(published.path("headers")), "uwv", at);
                out = HeaderList.replace(out, List.of(HeaderList.text("rmt-origin-source", origin.signer()),
                        HeaderList.text("rmt-origin-event", origin.eventId()),
                        HeaderList.text("rmt-origin-sig-key", origin.keyId())));
            }
            out = HeaderList.replace(out, sealed.headers());
            out = Signatures.sign(signer, topic, key, sealed.value(), out, at);
            assertEquals(c.path("value_hex").asText(), HEX.formatHex(sealed.value()), c.path("name").asText());
            assertEquals(pairs(c.path("headers")), pairs(out));

            // opened by its reader: the hub reads an outbox, the partner its inbox
            List<Header> given = headers(c.path("headers"));
            byte[] value = hex(c.path("value_hex"));
            if (recipient.partnerId().equals(RecordSecurity.HUB)) {
                Signatures.verify(directory, topic, key, value, given, signer.partnerId(), at);
                byte[] opened = new Envelope.Decryptor(List.of(recipient)).decrypt(topic, key, value, given, null);
                assertArrayEquals(plain, opened);
            } else {
                RecordSecurity reader = new RecordSecurity(recipient, List.of(), directory, n -> {
                    throw new AssertionError("reading draws no random bytes");
                }, () -> at);
                assertArrayEquals(plain, reader.openInbound(topic, key, value, given).value());
            }
        }
        // the SDK's own outbound path gives the same record
        JsonNode outbox = file.path("cases").get(0);
        long at = outbox.path("signed_at_ms").asLong();
        RecordSecurity uwv = new RecordSecurity(identities.get("uwv"), List.of(), directory,
                randomOf(drawn(outbox.path("random_hex"))), () -> at);
        RecordSecurity.Sealed sealed = uwv.sealOutbound(outbox.path("topic").asText(), hex(outbox.path("key_hex")),
                hex(outbox.path("plaintext_hex")), headers(outbox.path("headers_in")));
        assertEquals(outbox.path("value_hex").asText(), HEX.formatHex(sealed.value()));
        assertEquals(pairs(outbox.path("headers")), pairs(sealed.headers()));
        assertEquals(pairs(outbox.path("headers_in")), pairs(PartnerClient.cloudEventHeaders(
                profile.get("event_id").toString(), "uwv", "nl.rmt.hub.ClientProfile",
                (java.time.Instant) profile.get("occurred_at"))));
    }

    @Test
    void sealedFields() {
        JsonNode file = vectors("sealed-fields.json");
        for (JsonNode c : file.path("cases")) {
            SubjectKey key = new SubjectKey(c.path("subject").asText(), c.path("subject_key_id").asText(),
                    hex(file.path("subject_key_hex")));
            String field = c.path("field").asText();
            assertArrayEquals(hex(c.path("aad_hex")),
                    SealedFields.aad(key.subject(), field, HEX.parseHex(key.keyId())));
            assertEquals(c.path("token").asText(),
                    SealedFields.seal(key, field, c.path("value_json").asText(), hex(c.path("nonce_hex"))));
            assertEquals(key.keyId(), SealedFields.keyIdOf(c.path("token").asText()));
            assertEquals(c.path("value_json").asText(), SealedFields.open(key, field, c.path("token").asText()));
            assertThrows(HubException.class, () -> SealedFields.open(key, "other_field", c.path("token").asText()));
        }
    }

    @Test
    void subjectKeyGrants() {
        JsonNode grant = vectors("subject-key-grants.json");
        Identity recipient = identities().get(grant.path("recipient").asText());
        Directory directory = directory();
        String subject = grant.path("subject").asText();
        String keyId = grant.path("subject_key_id").asText();
        RecordSecurity security = new RecordSecurity(recipient, List.of(), directory);
        SubjectKey key = SubjectKey.fromGrant(security, subject, keyId, hex(grant.path("blob_hex")), headers(grant.path("headers")));
        assertArrayEquals(hex(grant.path("subject_key_hex")), key.secret());
        Envelope.Sealed made = new Envelope.Encryptor(randomOf(drawn(grant.path("random_hex"))), () -> 0L).encrypt(
                directory.current(recipient.partnerId(), java.time.Instant.now()), SubjectKey.GRANT_TOPIC,
                subject.getBytes(StandardCharsets.UTF_8), Crypto.concat(HEX.parseHex(keyId), key.secret()), keyId);
        assertEquals(grant.path("blob_hex").asText(), HEX.formatHex(made.value()));
        assertEquals(pairs(grant.path("headers")), pairs(made.headers()));
    }

    @Test
    void pseudonyms() {
        for (JsonNode c : vectors("pseudonyms.json").path("cases")) {
            byte[] key = c.path("key_utf8").asText().getBytes(StandardCharsets.UTF_8);
            assertEquals(c.path("pseudonym").asText(), Pseudonyms.of(key, c.path("bsn").asText()));
        }
    }

    @Test
    void eventIds() {
        JsonNode file = vectors("event-ids.json");
        assertEquals(file.path("namespace").asText(), EventIds.NAMESPACE.toString());
        Schema schema = Schemas.of("nl.rmt.hub.ClientProfile");
        GenericRecord profile = AvroJson.record(vectors("records.json").path("record_json"), schema);
        for (JsonNode c : file.path("cases")) {
            List<String> parts = new ArrayList<>();
            c.path("parts").forEach(p -> parts.add(p.asText()));
            String partner = c.path("partner").asText();
            assertEquals(c.path("event_id").asText(), EventIds.derive(partner, parts.toArray(String[]::new)));
            if (parts.get(0).equals("nl.rmt.hub.ClientProfile")) {
                // the example record of records.json: the Java record gives the same parts and id
                assertEquals(parts.get(1), EventIds.businessKey(profile));
                assertEquals(parts.get(2), AvroJson.json(profile, true, Set.of("event_id")));
                assertEquals(c.path("event_id").asText(), EventIds.of(profile, partner));
            }
        }
    }
}
