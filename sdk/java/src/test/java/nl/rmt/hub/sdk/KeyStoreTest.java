package nl.rmt.hub.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A partner's own keys: generated, saved, listed in a directory, loaded back, usable. */
class KeyStoreTest {
    @Test
    void aGeneratedIdentitySavesAndLoadsAsTheHubsKeyStoreHasIt(@TempDir Path root) throws Exception {
        Identity made = Identity.generate("gemeente-utrecht");
        Instant now = Instant.now();
        KeyRecord entry = made.publicRecord(now.minusSeconds(60), now.plusSeconds(86400), "GEMEENTE");
        Files.writeString(root.resolve("directory.json"),
                "{\"version\": 1, \"keys\": [" + Directory.json(entry) + "]}");
        KeyStore.save(made, root);

        KeyStore store = KeyStore.open(root);
        Identity loaded = store.current("gemeente-utrecht");
        assertEquals(made.keyId(), loaded.keyId());
        assertArrayEquals(made.encryptionPublicKey(), loaded.encryptionPublicKey());
        assertEquals(List.of(made.keyId()), store.all("gemeente-utrecht").stream().map(Identity::keyId).toList());
        byte[] data = {1, 2, 3};
        assertEquals(true, Crypto.verify(entry.signingPublicKey(), loaded.sign(data), data));
    }
}
