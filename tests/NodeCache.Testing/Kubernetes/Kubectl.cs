namespace NodeCache.Testing.Kubernetes;

/// <summary>
/// The real <c>kubectl</c>, a real client to check <see cref="FakeApiServer"/> against: <c>&lt;repo&gt;/.tools/kubectl/kubectl</c>
/// as tests/install-peers installs it, else the first on PATH. A missing kubectl fails the test with the way to get it.
/// </summary>
public static class Kubectl
{
    private static readonly Lazy<string> Located = new(Locate);

    public static string BinaryPath => Located.Value;

    private static string Locate()
    {
        var installed = Path.Combine(Helm.RepositoryRoot, ".tools", "kubectl", "kubectl");
        if (File.Exists(installed))
        {
            return installed;
        }
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "kubectl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("kubectl not found: run tests/install-peers, which installs it");
    }
}
