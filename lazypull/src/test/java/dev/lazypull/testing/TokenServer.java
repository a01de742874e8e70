package dev.lazypull.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A Docker token service for tests (Debian packages none): hands out RS256 JWTs for the scopes
 * asked for, to clients that send the right Basic credentials. The signing key and its self-signed
 * certificate are made by the JDK's keytool in a temporary directory; the registry trusts the
 * certificate through {@code auth.token.rootcertbundle} ({@link LocalRegistry#withTokenAuth}) and
 * finds it in each token's {@code x5c} header.
 *
 * <p>Tokens really expire after {@link #tokenLifetime} (the registry refuses them then), while the
 * answer's {@code expires_in} may say something else: {@link #advertiseExpiresIn} lets a test make
 * a client trust a token longer than the registry does.
 */
public final class TokenServer implements AutoCloseable {
  public static final String SERVICE = "lazypull-test-registry";
  public static final String ISSUER = "lazypull-test-token-issuer";

  /**
   * docker-registry 2.8 accepts a token up to 60 s after its {@code exp} (clock-skew leeway), so a
   * token meant to die after N seconds carries {@code exp = now + N - 60 s}.
   */
  private static final Duration REGISTRY_LEEWAY = Duration.ofSeconds(60);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STORE_PASSWORD = "lazypull-test-store";

  private final Path dir;
  private final PrivateKey key;
  private final X509Certificate certificate;
  private final String user;
  private final String password;
  private final HttpServer server;
  private final List<String> issued = new CopyOnWriteArrayList<>();
  private volatile Duration tokenLifetime = Duration.ofMinutes(5);
  private volatile long advertisedExpiresIn = -1;

  private TokenServer(String user, String password) throws IOException {
    this.user = user;
    this.password = password;
    this.dir = Files.createTempDirectory("lazypull-token-");
    try {
      Path store = generateKeyStore(dir);
      var keyStore = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        keyStore.load(in, STORE_PASSWORD.toCharArray());
      }
      key = (PrivateKey) keyStore.getKey("token", STORE_PASSWORD.toCharArray());
      certificate = (X509Certificate) keyStore.getCertificate("token");
      Files.writeString(
          certificatePem(),
          "-----BEGIN CERTIFICATE-----\n"
              + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                  .encodeToString(certificate.getEncoded())
              + "\n-----END CERTIFICATE-----\n");
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot load the token signing key: " + e, e);
    }
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.createContext("/token", this::handle);
    server.start();
  }

  /** A token service that wants {@code user:password} (Basic) before it hands out a token. */
  public static TokenServer withCredentials(String user, String password) throws IOException {
    return new TokenServer(user, password);
  }

  /** The realm to put in the registry's config: {@code http://127.0.0.1:<port>/token}. */
  public String realm() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
  }

  /** The PEM file of the certificate whose key signs the tokens. */
  public Path certificatePem() {
    return dir.resolve("token-cert.pem");
  }

  /** Tokens made from now on are refused by the registry after {@code lifetime}. */
  public void tokenLifetime(Duration lifetime) {
    this.tokenLifetime = lifetime;
  }

  /** Answers say {@code expires_in: seconds} whatever the real lifetime; negative: the truth. */
  public void advertiseExpiresIn(long seconds) {
    this.advertisedExpiresIn = seconds;
  }

  /** Every token handed out so far. */
  public List<String> issued() {
    return List.copyOf(issued);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String expected =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
      if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        byte[] body = "{\"details\":\"wrong credentials\"}".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(401, body.length);
        exchange.getResponseBody().write(body);
        return;
      }
      List<String> scopes = new ArrayList<>();
      String query = exchange.getRequestURI().getRawQuery();
      for (String pair : query == null ? new String[0] : query.split("&")) {
        if (pair.startsWith("scope=")) {
          scopes.add(URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8));
        }
      }
      Duration lifetime = tokenLifetime;
      String token = sign(scopes, lifetime);
      issued.add(token);
      ObjectNode answer = JSON.createObjectNode();
      answer.put("token", token);
      answer.put("access_token", token);
      answer.put(
          "expires_in", advertisedExpiresIn >= 0 ? advertisedExpiresIn : lifetime.toSeconds());
      answer.put("issued_at", Instant.now().toString());
      byte[] body = JSON.writeValueAsBytes(answer);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  /** A JWT granting every action asked for in {@code scopes} ({@code type:name:actions}). */
  private String sign(List<String> scopes, Duration lifetime)
      throws java.security.GeneralSecurityException, IOException {
    ObjectNode header = JSON.createObjectNode();
    header.put("typ", "JWT");
    header.put("alg", "RS256");
    header.putArray("x5c").add(Base64.getEncoder().encodeToString(certificate.getEncoded()));
    long now = Instant.now().getEpochSecond();
    ObjectNode claims = JSON.createObjectNode();
    claims.put("iss", ISSUER);
    claims.put("sub", user);
    claims.put("aud", SERVICE);
    claims.put("iat", now);
    claims.put("nbf", now - 1);
    claims.put("exp", now + lifetime.toSeconds() - REGISTRY_LEEWAY.toSeconds());
    claims.put("jti", UUID.randomUUID().toString());
    var access = claims.putArray("access");
    for (String scope : scopes) {
      String[] parts = scope.split(":");
      if (parts.length < 3) {
        continue;
      }
      // The name may hold a port-less host path; the actions are the last part.
      String name = scope.substring(parts[0].length() + 1, scope.lastIndexOf(':'));
      var entry = access.addObject();
      entry.put("type", parts[0]);
      entry.put("name", name);
      var actions = entry.putArray("actions");
      for (String action : parts[parts.length - 1].split(",")) {
        actions.add(action);
      }
    }
    var base64 = Base64.getUrlEncoder().withoutPadding();
    String signingInput =
        base64.encodeToString(JSON.writeValueAsBytes(header))
            + "."
            + base64.encodeToString(JSON.writeValueAsBytes(claims));
    var signer = Signature.getInstance("SHA256withRSA");
    signer.initSign(key);
    signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
    return signingInput + "." + base64.encodeToString(signer.sign());
  }

  /** An RSA key and a self-signed certificate for it, by the JDK's keytool. */
  private static Path generateKeyStore(Path dir) throws IOException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Path store = dir.resolve("token.p12");
    Process process =
        new ProcessBuilder(
                keytool.toString(),
                "-genkeypair",
                "-alias",
                "token",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-sigalg",
                "SHA256withRSA",
                "-dname",
                "CN=lazypull test token issuer",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                STORE_PASSWORD)
            .redirectErrorStream(true)
            .start();
    try {
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException("keytool failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running keytool", e);
    }
    return store;
  }

  @Override
  public void close() {
    server.stop(0);
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temporary directory left behind.
    }
  }
}
