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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * The hub's schema registry (Confluent's REST API): registers a canonical schema under its
 * record name (RecordNameStrategy: subject = the full name) and fetches writer schemas by id.
 */
public final class Registry {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private final String url;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade: the hub's registry speaks HTTP/1.1
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();

    public Registry(String url) {
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** The id of the canonical schema of {@code fullname} (registered on first use). */
    public int idOf(String fullname) {
        return ids.computeIfAbsent(fullname, name -> {
            String body;
            try {
                body = JSON.writeValueAsString(Map.of("schema", Schemas.text(name)));
            } catch (IOException e) {
                throw new HubException("cannot write the registration of " + name, e);
            }
            String subject = URLEncoder.encode(name, StandardCharsets.UTF_8);
            JsonNode answer = call(HttpRequest.newBuilder(URI.create(url + "/subjects/" + subject + "/versions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            return answer.path("id").asInt();
        });
    }

    /** The writer schema of {@code id}. */
    public Schema schema(int id) {
        return schemas.computeIfAbsent(id, key -> {
            JsonNode answer = call(HttpRequest.newBuilder(URI.create(url + "/schemas/ids/" + key)).GET());
            try {
                return new Schema.Parser().parse(answer.path("schema").asText());
            } catch (RuntimeException e) {
                throw new HubException("DECODE_ERROR", "schema " + key + " of the registry does not parse", e);
            }
        });
    }

    private JsonNode call(HttpRequest.Builder request) {
        HttpRequest built = request.header("Content-Type", CONTENT_TYPE)
                .header("Accept", CONTENT_TYPE)
                .timeout(Duration.ofSeconds(30))
                .build();
        try {
            HttpResponse<String> response = http.send(built, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new HubException("schema registry " + built.method() + " " + built.uri() + ": HTTP "
                        + response.statusCode() + " " + response.body());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new HubException("schema registry " + built.uri() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while calling the schema registry", e);
        }
    }
}
