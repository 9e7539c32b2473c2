using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace NodeCache.Testing;

/// <summary>
/// Signs registry bearer tokens the way the distribution registry verifies them: RS256 with the signing certificate
/// in the <c>x5c</c> header, checked against the <c>rootcertbundle</c> the registry was started with. The certificate
/// is self-signed, so it is its own root; it carries no extended key usage, which Go's verifier reads as "any".
/// </summary>
public sealed class RegistryTokenSigner : IDisposable
{
    private readonly RSA _key;
    private readonly X509Certificate2 _certificate;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public RegistryTokenSigner(string issuer)
    {
        Issuer = issuer;
        _key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={issuer}", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        _certificate = request.CreateSelfSigned(now.AddHours(-1), now.AddDays(2));
        _credentials = new SigningCredentials(new RsaSecurityKey(_key), SecurityAlgorithms.RsaSha256);
    }

    public string Issuer { get; }

    /// <summary>The certificate as PEM, the content of the registry's <c>auth.token.rootcertbundle</c>.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    public string Sign(string? subject, string audience, IReadOnlyList<RepositoryAccess> access, TimeSpan lifetime)
    {
        // Whole seconds: the registry reads exp/nbf/iat as integers.
        var now = DateTime.UnixEpoch.AddSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = _credentials,
            Subject = new ClaimsIdentity([new Claim("sub", subject ?? "")]),
            Claims = new Dictionary<string, object>
            {
                ["jti"] = Guid.NewGuid().ToString("N"),
                ["access"] = JsonSerializer.SerializeToElement(access),
            },
            AdditionalHeaderClaims = new Dictionary<string, object>
            {
                ["x5c"] = new List<string> { Convert.ToBase64String(_certificate.RawData) },
            },
        };
        return _handler.CreateToken(descriptor);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}
