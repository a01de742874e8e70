/** Test helpers shared by the test suites of several packages (layers generated in code). */
@NullMarked
package dev.lazypull.testing;

import org.jspecify.annotations.NullMarked;
