package dev.lazypull.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway CA and a server certificate it signed for 127.0.0.1 (an IP subjectAltName, which is
 * what Java checks for an IP host), made with openssl in a directory: {@code ca.crt}, {@code
 * server.crt}, {@code server.key}. For registries served over TLS on loopback.
 */
public record TestCertificates(Path caCertificate, Path serverCertificate, Path serverKey) {

  private static final Path OPENSSL = Path.of("/usr/bin/openssl");

  /** Makes a fresh CA and server certificate in {@code dir}; fails loudly without openssl. */
  public static TestCertificates create(Path dir) throws IOException, InterruptedException {
    if (!Files.isExecutable(OPENSSL)) {
      throw new IllegalStateException(
          OPENSSL + " is missing: install the Debian package openssl (scripts/install-deps.sh)");
    }
    Files.createDirectories(dir);
    Path caKey = dir.resolve("ca.key");
    Path ca = dir.resolve("ca.crt");
    Path key = dir.resolve("server.key");
    Path csr = dir.resolve("server.csr");
    Path certificate = dir.resolve("server.crt");
    Path extensions =
        Files.writeString(
            dir.resolve("server.ext"),
            "subjectAltName = IP:127.0.0.1\n"
                + "basicConstraints = CA:FALSE\n"
                + "keyUsage = critical, digitalSignature, keyEncipherment\n"
                + "extendedKeyUsage = serverAuth\n");
    openssl(
        dir,
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=lazypull test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        caKey.toString(),
        "-out",
        ca.toString());
    openssl(
        dir,
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        key.toString(),
        "-out",
        csr.toString());
    openssl(
        dir,
        "x509",
        "-req",
        "-in",
        csr.toString(),
        "-CA",
        ca.toString(),
        "-CAkey",
        caKey.toString(),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        extensions.toString(),
        "-out",
        certificate.toString());
    return new TestCertificates(ca, certificate, key);
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    var command = new java.util.ArrayList<>(List.of(OPENSSL.toString()));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IOException("openssl " + String.join(" ", args) + " failed: " + output.strip());
    }
  }
}
