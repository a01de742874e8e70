package dev.lazypull.cli;

import picocli.CommandLine.Command;

/** {@code lazypull index ...}: what a registry holds as SOCI indexes for an image. */
@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    description = "List and show the SOCI indexes a registry holds for an image.",
    subcommands = {IndexListCommand.class, IndexInfoCommand.class})
public final class IndexCommand {}
