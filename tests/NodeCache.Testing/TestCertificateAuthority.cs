using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NodeCache.Testing;

/// <summary>
/// A CA made for one test and a server certificate it signed for 127.0.0.1 and localhost, written as PEM files:
/// what a cluster with a private Harbor CA gives the agent through <c>--ca-file</c>.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly TempFolder _folder;
    private readonly X509Certificate2 _ca;

    private TestCertificateAuthority(TempFolder folder, X509Certificate2 ca)
    {
        _folder = folder;
        _ca = ca;
    }

    /// <summary>The CA certificate (PEM), for <c>--ca-file</c>.</summary>
    public string CaPath => _folder.Combine("ca.pem");

    /// <summary>The server certificate (PEM) and its key, for the registry's <c>http.tls</c>.</summary>
    public string CertificatePath => _folder.Combine("server.pem");

    public string KeyPath => _folder.Combine("server.key");

    public static TestCertificateAuthority Create()
    {
        var folder = TempFolder.Create("ca");
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=NodeCache Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        var authority = new TestCertificateAuthority(folder, ca);
        File.WriteAllText(authority.CaPath, ca.ExportCertificatePem());
        File.WriteAllText(authority.CertificatePath, server.ExportCertificatePem());
        File.WriteAllText(authority.KeyPath, serverKey.ExportPkcs8PrivateKeyPem());
        return authority;
    }

    /// <summary>A handler that trusts this CA alone, for test clients talking to the TLS registry.</summary>
    public HttpMessageHandler CreateTrustingHandler() => new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(_ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            },
        },
    };

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }
}
