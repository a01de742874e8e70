/** The command line: picocli commands that own the console. */
@NullMarked
package dev.lazypull.cli;

import org.jspecify.annotations.NullMarked;
