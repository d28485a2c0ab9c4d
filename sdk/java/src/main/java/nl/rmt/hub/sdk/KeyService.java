package nl.rmt.hub.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Header;

/**
 * Subject keys from the hub's key service (protocol section 8): {@code GET
 * <consent url>/v1/subject-keys/<subject>/<key id>} with the partner's API key answers the key
 * wrapped to the partner's X25519 key while a consent entitles the partner to the subject's
 * health data. A key is kept at most as long as the service says and never over 300 s, so a
 * withdrawal reaches the reader within that time. 403 (not entitled), 404 (no such key) and 410
 * (destroyed) give no key, kept 30 s: the fields stay closed. Other failures throw {@link HubException}.
 */
public final class KeyService implements SubjectKey.Provider {
    static final Duration MAX_CACHE = Duration.ofSeconds(300);
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Cached(Optional<SubjectKey> key, long untilMs) {}

    private final URI base;
    private final String apiKey;
    private final RecordSecurity security;
    private final HttpClient http;
    private final LongSupplier clockMs;
    private final Map<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > 10_000;
        }
    };

    /** {@code consentUrl}: the consent service; {@code security}: the partner's keys. */
    public KeyService(String consentUrl, String apiKey, RecordSecurity security) {
        this(consentUrl, apiKey, security, HttpClient.newHttpClient(), System::currentTimeMillis);
    }

    KeyService(String consentUrl, String apiKey, RecordSecurity security, HttpClient http, LongSupplier clockMs) {
        this.base = URI.create(consentUrl.endsWith("/") ? consentUrl : consentUrl + "/");
        this.apiKey = apiKey;
        this.security = security;
        this.http = http;
        this.clockMs = clockMs;
    }

    @Override
    public synchronized Optional<SubjectKey> find(String subject, String keyId) {
        String cacheKey = subject + "/" + keyId;
        Cached hit = cache.get(cacheKey);
        long now = clockMs.getAsLong();
        if (hit != null && now < hit.untilMs()) {
            return hit.key();
        }
        HttpRequest request = HttpRequest.newBuilder(base.resolve("v1/subject-keys/" + part(subject) + "/" + part(keyId)))
                .header("X-API-Key", apiKey)
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build();
        HttpResponse<String> answer;
        try {
            answer = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new HubException("the key service at " + base + " did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while asking the key service for a subject key");
        }
        int status = answer.statusCode();
        if (status == 403 || status == 404 || status == 410) {
            // not entitled (now), no such key, or destroyed: the fields stay closed
            cache.put(cacheKey, new Cached(Optional.empty(), now + MAX_CACHE.toMillis() / 10));
            return Optional.empty();
        }
        if (status != 200) {
            throw new HubException("the key service answered HTTP " + status + " for a subject key");
        }
        JsonNode body;
        try {
            body = JSON.readTree(answer.body());
        } catch (IOException e) {
            throw new HubException("the key service answered no JSON for a subject key");
        }
        if (!subject.equals(body.path("subject").asText()) || !keyId.equals(body.path("key_id").asText())) {
            throw new HubException("the key service granted another key than asked for");
        }
        List<Header> headers = new ArrayList<>();
        body.path("headers").forEach(pair -> headers.add(HeaderList.text(pair.path(0).asText(), pair.path(1).asText())));
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(body.path("blob_b64").asText());
        } catch (IllegalArgumentException e) {
            throw new HubException("the key service's grant is not base64");
        }
        SubjectKey key = SubjectKey.fromGrant(security, subject, keyId, blob, headers);
        long keepMs = Math.min((long) (body.path("cache_for_s").asDouble(0) * 1000), MAX_CACHE.toMillis());
        cache.put(cacheKey, new Cached(Optional.of(key), now + keepMs));
        return Optional.of(key);
    }

    /** Forget the subject's keys (its erasure notice arrived). */
    public synchronized void forget(String subject) {
        cache.keySet().removeIf(k -> k.startsWith(subject + "/"));
    }

    private static String part(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
