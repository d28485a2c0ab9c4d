package nl.rmt.hub.sdk;

import static nl.rmt.hub.sdk.TestVectorsTest.directory;
import static nl.rmt.hub.sdk.TestVectorsTest.hex;
import static nl.rmt.hub.sdk.TestVectorsTest.identities;
import static nl.rmt.hub.sdk.TestVectorsTest.vectors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The key service client over real HTTP, against a small server that answers what the hub's
 * key service answers: the grant of subject-key-grants.json to the holder of the API key, 403
 * for a subject no consent entitles the partner to, 410 for a destroyed key, 500 otherwise.
 */
class KeyServiceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final JsonNode grant = vectors("subject-key-grants.json");
    final String subject = grant.path("subject").asText();
    final String keyId = grant.path("subject_key_id").asText();
    final List<String> asked = new ArrayList<>();
    final AtomicLong now = new AtomicLong(1_000_000);
    HttpServer server;
    KeyService service;

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/subject-keys/", exchange -> {
            String path = exchange.getRequestURI().getRawPath();
            asked.add(path);
            int status;
            byte[] body = new byte[0];
            if (!"partner-api-key".equals(exchange.getRequestHeaders().getFirst("X-API-Key"))) {
                status = 401;
            } else if (path.equals("/v1/subject-keys/" + subject + "/" + keyId)) {
                ObjectNode answer = JSON.createObjectNode();
                answer.put("subject", subject).put("key_id", keyId).put("cache_for_s", 60.0);
                answer.put("blob_b64", Base64.getEncoder().encodeToString(hex(grant.path("blob_hex"))));
                answer.set("headers", grant.path("headers"));
                status = 200;
                body = JSON.writeValueAsBytes(answer);
            } else if (path.startsWith("/v1/subject-keys/psn-not-entitled/")) {
                status = 403;
            } else if (path.startsWith("/v1/subject-keys/psn-erased/")) {
                status = 410;
            } else {
                status = 500;
            }
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
        Identity partner = identities().get(grant.path("recipient").asText());
        RecordSecurity security = new RecordSecurity(partner, List.of(), directory());
        service = new KeyService("http://127.0.0.1:" + server.getAddress().getPort(), "partner-api-key", security,
                HttpClient.newHttpClient(), now::get);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void anEntitledPartnerGetsTheKeyAndKeepsItForAtMostWhatTheServiceSays() {
        SubjectKey key = service.find(subject, keyId).orElseThrow();
        assertArrayEquals(hex(grant.path("subject_key_hex")), key.secret());
        service.find(subject, keyId).orElseThrow();
        assertEquals(1, asked.size(), "kept, not asked again");
        now.addAndGet(60_001);
        service.find(subject, keyId).orElseThrow();
        assertEquals(2, asked.size(), "asked again after cache_for_s");
        service.forget(subject);
        service.find(subject, keyId).orElseThrow();
        assertEquals(3, asked.size(), "asked again after the subject's erasure notice");
    }

    @Test
    void aRefusedOrDestroyedKeyLeavesTheFieldsClosed() {
        assertTrue(service.find("psn-not-entitled", keyId).isEmpty());
        assertTrue(service.find("psn-erased", keyId).isEmpty());
        HubException broken = assertThrows(HubException.class, () -> service.find("psn-other", keyId));
        assertTrue(broken.getMessage().contains("HTTP 500"), broken.getMessage());
        assertEquals(3, asked.size());
        assertTrue(asked.get(0).endsWith("/" + keyId), asked.get(0));
    }
}
