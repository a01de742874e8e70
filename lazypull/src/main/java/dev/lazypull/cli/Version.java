package dev.lazypull.cli;

import picocli.CommandLine.IVersionProvider;

/** Reports lazypull's version, taken from the jar manifest when there is one. */
public final class Version implements IVersionProvider {

  /** The version string written into indexes as part of the build tool identifier. */
  public static String current() {
    String fromJar = Version.class.getPackage().getImplementationVersion();
    return fromJar != null ? fromJar : "0.1.0-dev";
  }

  @Override
  public String[] getVersion() {
    return new String[] {"lazypull " + current()};
  }
}
