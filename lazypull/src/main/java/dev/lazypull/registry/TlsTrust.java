package dev.lazypull.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS trust of one endpoint: the system's CAs plus the hosts.toml {@code ca} files, or no
 * checks at all with {@code skip_verify}. Endpoints without either use the JDK's defaults.
 */
final class TlsTrust {

  private final List<Path> caFiles;
  private final boolean skipVerify;
  private final SSLContext context;

  /** One factory for all connections, so that the JDK's keep-alive cache can reuse them. */
  private final SSLSocketFactory socketFactory;

  private TlsTrust(List<Path> caFiles, boolean skipVerify, SSLContext context) {
    this.caFiles = caFiles;
    this.skipVerify = skipVerify;
    this.context = context;
    this.socketFactory = context.getSocketFactory();
  }

  /** The trust an endpoint asks for; fails naming a CA file that cannot be read or parsed. */
  static TlsTrust of(List<Path> caFiles, boolean skipVerify) throws IOException {
    try {
      TrustManager trust = skipVerify ? new TrustingEverything() : withCaFiles(caFiles);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trust}, null);
      return new TlsTrust(List.copyOf(caFiles), skipVerify, context);
    } catch (GeneralSecurityException e) {
      throw new IOException("set up TLS trust for " + caFiles + ": " + e.getMessage(), e);
    }
  }

  /** Loads the endpoint's CA files now, so that a wrong one is told when the config is read. */
  static void check(RegistryEndpoint endpoint, String source) throws IOException {
    try {
      for (Path file : endpoint.caFiles()) {
        certificates(file);
      }
    } catch (IOException e) {
      throw new IOException(source + ": " + e.getMessage(), e);
    }
  }

  boolean skipVerify() {
    return skipVerify;
  }

  SSLContext context() {
    return context;
  }

  SSLSocketFactory socketFactory() {
    return socketFactory;
  }

  /** With skip_verify any host name passes; otherwise the JDK's check. */
  HostnameVerifier hostnameVerifier() {
    return skipVerify ? (host, session) -> true : HttpsURLConnection.getDefaultHostnameVerifier();
  }

  @Override
  public String toString() {
    return skipVerify ? "skip_verify" : "ca " + caFiles;
  }

  private static X509TrustManager withCaFiles(List<Path> caFiles)
      throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int n = 0;
    for (X509Certificate system : systemTrust().getAcceptedIssuers()) {
      store.setCertificateEntry("system-" + n++, system);
    }
    for (Path file : caFiles) {
      for (Certificate certificate : certificates(file)) {
        store.setCertificateEntry("ca-" + n++, certificate);
      }
    }
    var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    return x509(factory);
  }

  private static X509TrustManager systemTrust() throws GeneralSecurityException {
    var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    return x509(factory);
  }

  private static X509TrustManager x509(TrustManagerFactory factory)
      throws GeneralSecurityException {
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("the JDK offers no X.509 trust manager");
  }

  /** Every certificate in a PEM (or DER) file; at least one, or this fails naming the file. */
  private static Collection<? extends Certificate> certificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certificates =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) {
        throw new IOException("CA file " + file + " holds no certificate; give a PEM file");
      }
      return certificates;
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("CA file " + file + " does not exist; check the ca path", e);
    } catch (CertificateException e) {
      throw new IOException(
          "CA file " + file + " is not a PEM certificate (" + e.getMessage() + ")", e);
    }
  }

  /**
   * skip_verify: accepts any chain. An extended trust manager, so that the JDK adds no host name
   * check of its own around it (it wraps plain X509TrustManagers in one).
   */
  private static final class TrustingEverything extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
