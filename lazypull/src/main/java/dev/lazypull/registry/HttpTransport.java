package dev.lazypull.registry;

import java.io.IOException;

/** Sends one HTTP request and returns the response as it came: no redirects, no auth, no retry. */
interface HttpTransport {

  HttpResponse send(HttpRequest request) throws IOException;

  /** Body bytes received from registries and storage hosts so far. */
  long bytesReceived();
}
