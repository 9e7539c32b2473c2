using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NodeCache.Upstream;

/// <summary>CA certificates from a PEM bundle: trusted in addition to the system roots (a registry with a private CA), or alone (the cluster's peer CA).</summary>
internal sealed class CaBundle : IDisposable
{
    private readonly X509Certificate2Collection _roots;

    private CaBundle(X509Certificate2Collection roots) => _roots = roots;

    /// <exception cref="IOException">The bundle cannot be read or holds no certificate; the message names the path.</exception>
    public static CaBundle Load(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new IOException($"CA bundle '{path}': {SafeText.Message(e)}", e);
        }
        return roots.Count > 0 ? new CaBundle(roots) : throw new IOException($"CA bundle '{path}' holds no PEM certificate");
    }

    /// <summary>
    /// TLS validation: what the system trusts passes; a chain the system rejects passes when it builds up to a bundle CA.
    /// Name mismatches and missing certificates never pass.
    /// </summary>
    public bool Validate(X509Certificate2? certificate, X509Chain? systemChain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        return errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate is not null && ChainsToBundle(certificate, systemChain);
    }

    /// <summary>True when <paramref name="certificate"/> builds up to a bundle CA, with the intermediates the peer presented; nothing else is trusted.</summary>
    public bool ChainsToBundle(X509Certificate2 certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        // Private CAs rarely publish revocation lists; for an upstream, the system's own check already ran.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return chain.Build(certificate);
    }

    public void Dispose()
    {
        foreach (var root in _roots)
        {
            root.Dispose();
        }
    }
}
