namespace NodeCache.Upstream;

/// <summary>Credentials per upstream host, read from files or environment variables at startup; never logged.</summary>
public sealed class CredentialStore
{
    private const string EnvironmentPrefix = "env:";

    private readonly Dictionary<string, RegistryCredential> _byHost;

    private CredentialStore(Dictionary<string, RegistryCredential> byHost) => _byHost = byHost;

    public static CredentialStore Empty { get; } = new(new Dictionary<string, RegistryCredential>(StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// Parses <c>HOST=PATH</c> (a file holding <c>username:password</c>, or a folder holding <c>username</c> and <c>password</c>
    /// files, as a mounted Kubernetes Secret) and <c>HOST=env:VAR</c> (VAR holds <c>username:password</c>).
    /// </summary>
    /// <exception cref="FormatException">A bad spec or content; the one-line message names host and path, never the secret.</exception>
    /// <exception cref="IOException">A file that cannot be read; the message names host and path.</exception>
    public static CredentialStore Parse(IEnumerable<string> specs, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var byHost = new Dictionary<string, RegistryCredential>(StringComparer.OrdinalIgnoreCase);
        var number = 0;
        foreach (var spec in specs)
        {
            number++;
            var equals = spec.IndexOf('=');
            if (equals <= 0 || equals == spec.Length - 1)
            {
                // Not echoed: a spec without HOST= may well be the bare `username:password` itself.
                throw new FormatException($"credentials spec #{number}: expected HOST=PATH or HOST=env:VAR");
            }
            var host = NormalizeHost(spec[..equals].Trim());
            var source = spec[(equals + 1)..].Trim();
            var credential = source.StartsWith(EnvironmentPrefix, StringComparison.Ordinal)
                ? FromEnvironment(host, source[EnvironmentPrefix.Length..], environment)
                : FromPath(host, source);
            if (!byHost.TryAdd(host, credential))
            {
                throw new FormatException($"credentials for '{host}' are given twice");
            }
        }
        return new CredentialStore(byHost);
    }

    /// <summary>The credential for a host as in the endpoint URL (with :port when not the default); docker.io's serve registry-1.docker.io.</summary>
    public bool TryGet(string host, out RegistryCredential credential) =>
        _byHost.TryGetValue(host, out credential)
        || (host.Equals("registry-1.docker.io", StringComparison.OrdinalIgnoreCase) && _byHost.TryGetValue("docker.io", out credential));

    // People paste URLs; the key is the URL's authority either way.
    private static string NormalizeHost(string host) =>
        host.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(host, UriKind.Absolute, out var uri)
            ? uri.Authority.ToLowerInvariant()
            : host.TrimEnd('/').ToLowerInvariant();

    private static RegistryCredential FromEnvironment(string host, string variable, Func<string, string?> environment)
    {
        var value = environment(variable);
        if (string.IsNullOrEmpty(value))
        {
            throw new FormatException($"credentials for '{host}': environment variable {variable} is not set");
        }
        return TrySplit(value.TrimEnd('\r', '\n'), out var credential)
            ? credential
            : throw new FormatException($"credentials for '{host}': environment variable {variable} does not hold username:password");
    }

    private static RegistryCredential FromPath(string host, string path)
    {
        // A path with ':' is more likely a pasted `username:password` than a file name: keep it out of messages.
        var shown = path.Contains(':') ? "(path not shown: it contains ':')" : $"'{path}'";
        var problem = $"credentials for '{host}' from {shown}: ";
        if (Directory.Exists(path))
        {
            var username = Read(Path.Combine(path, "username"), problem, "the folder has no 'username' file").Trim();
            var password = Read(Path.Combine(path, "password"), problem, "the folder has no 'password' file").TrimEnd('\r', '\n');
            return username.Length > 0 && password.Length > 0
                ? new RegistryCredential(username, password)
                : throw new FormatException(problem + "username or password file is empty");
        }
        return TrySplit(Read(path, problem, "no such file or folder").TrimEnd('\r', '\n'), out var credential)
            ? credential
            : throw new FormatException(problem + "expected username:password");
    }

    private static string Read(string file, string problem, string missing)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Neither the inner exception nor its text: .NET's messages repeat the path, which may be the one not to show.
            throw new IOException(problem + e switch
            {
                FileNotFoundException or DirectoryNotFoundException => missing,
                UnauthorizedAccessException => "permission denied",
                _ => "cannot be read",
            });
        }
    }

    // The username cannot hold ':' (HTTP Basic forbids it); the password may.
    private static bool TrySplit(string text, out RegistryCredential credential)
    {
        credential = default;
        var colon = text.IndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }
        credential = new RegistryCredential(text[..colon].Trim(), text[(colon + 1)..]);
        return credential.Username.Length > 0;
    }
}
