package dev.lazypull.registry;

import java.util.Set;

/**
 * One registry request and how to judge its answer.
 *
 * @param registry where it goes
 * @param action what is being done, for error messages ("fetch manifest x:1")
 * @param scope the token scope it needs ("repository:x:pull")
 * @param request the request, without Authorization
 * @param expectedStatuses answers handed back to the caller; anything else becomes an exception
 * @param notFoundHint what to tell the user on 404
 * @param followRedirects whether 3xx answers are followed (reads only)
 */
record Exchange(
    ImageRegistry registry,
    String action,
    String scope,
    HttpRequest request,
    Set<Integer> expectedStatuses,
    String notFoundHint,
    boolean followRedirects) {

  Exchange {
    expectedStatuses = Set.copyOf(expectedStatuses);
  }
}
