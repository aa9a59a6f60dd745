// Runs a Gerrit program (init, daemon, reindex, ...) from Gerrit's published jars on a plain classpath.
// The release war is not served by the package registry here; gerrit-plugin-api and
// gerrit-acceptance-framework together carry the same server and pgm classes, and GerritLauncher's
// public invokeProgram is the entry point the war's own launcher uses once it has built its class loader.
public final class GerritMain {
  public static void main(String[] args) throws Exception {
    ClassLoader loader = GerritMain.class.getClassLoader();
    System.exit(com.google.gerrit.launcher.GerritLauncher.invokeProgram(loader, args));
  }
}
