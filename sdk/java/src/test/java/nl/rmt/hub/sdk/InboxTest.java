package nl.rmt.hub.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** Inbox records as a reader gets them: sealed fields opened with subject keys, notices. */
class InboxTest {
    static final PartnerClient.Config CONFIG =
            PartnerClient.Config.of("gemeente-amsterdam", "localhost:1", "http://localhost:1");

    @Test
    void sealedFieldsOpenWithTheSubjectsKeyAndStaySealedWithout() {
        JsonNode sealed = TestVectorsTest.vectors("sealed-fields.json");
        String subject = sealed.path("cases").get(0).path("subject").asText();
        SubjectKey key = new SubjectKey(subject, sealed.path("cases").get(0).path("subject_key_id").asText(),
                TestVectorsTest.hex(sealed.path("subject_key_hex")));
        Map<String, String> tokens = Map.of(
                "work_limitation", sealed.path("cases").get(0).path("token").asText(),
                "health_needs", sealed.path("cases").get(1).path("token").asText());

        GenericRecord delivered = profile(subject, tokens);
        PartnerClient withKey = new PartnerClient(CONFIG, null, (s, id) -> Optional.of(key).filter(k -> k.keyId().equals(id)));
        GenericRecord opened = withKey.openSealed(delivered);
        assertEquals(true, opened.get("work_limitation"));
        assertEquals(List.of("WORKPLACE_ADAPTATION", "ADJUSTED_HOURS"),
                ((List<?>) opened.get("health_needs")).stream().map(Object::toString).toList());
        assertNull(opened.get("sealed_fields"));

        PartnerClient withoutKey = new PartnerClient(CONFIG, null, (s, id) -> Optional.empty());
        GenericRecord kept = withoutKey.openSealed(profile(subject, tokens));
        assertNull(kept.get("work_limitation"));
        assertEquals(tokens.keySet(), ((Map<?, ?>) kept.get("sealed_fields")).keySet());
    }

    @Test
    void aRejectionNoticeIsSurfaced() {
        var schema = Schemas.of(InboxMessage.REJECTION_NOTICE);
        GenericRecord notice = AvroJson.record(TestVectorsTest.JSON.createObjectNode()
                .put("event_id", "n-1").put("occurred_at", "2026-01-01T00:00:00Z").put("source_partner", "hub")
                .put("record_key", "psn-1").put("rejected_event_id", "e-1").put("record_type", "nl.rmt.hub.Referral")
                .put("source_topic", "rmt.partner.uwv.outbox").put("source_partition", 2).put("source_offset", 7L)
                .put("reason", "MUNICIPALITY_UNKNOWN").put("message", "bad").putNull("field"), schema);
        var message = new InboxMessage("rmt.partner.uwv.inbox", 0, 0, new byte[0], List.of(), "n-1",
                InboxMessage.REJECTION_NOTICE, notice, null);
        assertEquals(InboxMessage.Kind.REJECTION, message.kind());
        var rejection = message.rejection().orElseThrow();
        assertEquals("e-1", rejection.rejectedEventId());
        assertEquals(7L, rejection.sourceOffset());
        assertEquals(Optional.empty(), message.erasure());
    }

    private static GenericRecord profile(String subject, Map<String, String> tokens) {
        var json = (com.fasterxml.jackson.databind.node.ObjectNode)
                TestVectorsTest.vectors("records.json").path("record_json").deepCopy();
        json.put("client_pseudonym", subject);
        json.set("sealed_fields", TestVectorsTest.JSON.valueToTree(tokens));
        return AvroJson.record(json, Schemas.of("nl.rmt.hub.ClientProfile"));
    }
}
