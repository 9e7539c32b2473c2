using System.Security.Cryptography;
using System.Text;

namespace NodeCache.Upstream;

/// <summary>
/// Whose credentials a request goes upstream with, when not the agent's own: nobody's (to learn whether a repository
/// is public) or a pod's pull secret (to prefetch for it, or to check that the upstream accepts it).
/// </summary>
public sealed class PullIdentity
{
    private PullIdentity(RegistryCredential? credential, string key)
    {
        Credential = credential;
        Key = key;
    }

    public static PullIdentity Anonymous { get; } = new(null, "anonymous");

    /// <summary>Null for <see cref="Anonymous"/>.</summary>
    public RegistryCredential? Credential { get; }

    /// <summary>Tells identities apart in caches without holding the password: tokens of one identity never serve another.</summary>
    internal string Key { get; }

    public static PullIdentity Of(RegistryCredential credential) =>
        new(credential, $"user:{credential.Username}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential.Password)))[..16]}");

    public override string ToString() => Credential is { } c ? c.Username : "anonymous";
}
