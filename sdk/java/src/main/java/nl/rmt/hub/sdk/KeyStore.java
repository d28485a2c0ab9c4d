package nl.rmt.hub.sdk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A key store as {@code rmt-hub keys new} writes it:
 * {@code <dir>/directory.json} and {@code <dir>/private/<key id>.signing.pem} /
 * {@code .encryption.pem} (PKCS#8 PEM). Files sealed with a passphrase ({@code
 * HUB_KEYS_PASSPHRASE}: scrypt, which the JDK lacks) are not read: keep a partner's own
 * store unsealed on a protected disk, or load the keys yourself with {@link Identity#of}.
 */
public final class KeyStore {
    private final Path root;
    private final Directory directory;

    private KeyStore(Path root) {
        this.root = root;
        this.directory = Directory.load(root.resolve("directory.json"));
    }

    public static KeyStore open(Path root) {
        return new KeyStore(root);
    }

    public Directory directory() {
        return directory;
    }

    /** The partner's current identity (its active key valid now). */
    public Identity current(String partnerId) {
        return load(directory.current(partnerId, Instant.now()));
    }

    /** Every key generation of the partner this store holds privately, oldest first. */
    public List<Identity> all(String partnerId) {
        List<Identity> out = new ArrayList<>();
        for (KeyRecord r : directory.keysOf(partnerId)) {
            if (Files.exists(privateFile(r.keyId(), "signing"))) {
                out.add(load(r));
            }
        }
        return out;
    }

    private Path privateFile(String keyId, String part) {
        return privateFile(root, keyId, part);
    }

    private static Path privateFile(Path root, String keyId, String part) {
        return root.resolve("private").resolve(keyId + "." + part + ".pem");
    }

    /**
     * Writes an identity's private keys into {@code root/private/} (PKCS#8 PEM, owner-only on
     * POSIX), as {@code rmt-hub keys new} does; {@code directory.json} comes from the hub.
     */
    public static void save(Identity identity, Path root) {
        try {
            Path dir = Files.createDirectories(root.resolve("private"));
            for (String part : List.of("signing", "encryption")) {
                var key = part.equals("signing") ? identity.signingKey() : identity.encryptionKey();
                String pem = "-----BEGIN PRIVATE KEY-----\n"
                        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded())
                        + "\n-----END PRIVATE KEY-----\n";
                Path file = privateFile(root, identity.keyId(), part);
                if (posix(dir)) {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                }
                Files.writeString(file, pem, StandardCharsets.US_ASCII);
            }
        } catch (IOException e) {
            throw new HubException(root + ": cannot write the private keys", e);
        }
    }

    private Identity load(KeyRecord record) {
        var signing = Crypto.privateKey("Ed25519", pem(privateFile(record.keyId(), "signing")));
        var encryption = Crypto.privateKey("X25519", pem(privateFile(record.keyId(), "encryption")));
        Identity identity = new Identity(record.partnerId(), signing, record.signingPublicKey(), encryption);
        byte[] probe = identity.sign(new byte[] {0});
        if (!identity.keyId().equals(record.keyId()) || !Crypto.verify(record.signingPublicKey(), probe, new byte[] {0})) {
            throw new HubException("the private keys of " + record.keyId() + " do not match the directory");
        }
        return identity;
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static byte[] pem(Path file) {
        String text;
        try {
            if (posix(file) && Files.getPosixFilePermissions(file).stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                throw new HubException(file + ": private key readable by others; chmod 600 it");
            }
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new HubException(file + ": cannot read the private key", e);
        }
        if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new HubException(file + ": not an unencrypted PKCS#8 PEM (sealed with a passphrase?)");
        }
        String body = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(body);
    }
}
