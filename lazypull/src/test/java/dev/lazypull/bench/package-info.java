/** Tests that the benchmark scripts in bench/ run and report completely (never their speed). */
@NullMarked
package dev.lazypull.bench;

import org.jspecify.annotations.NullMarked;
