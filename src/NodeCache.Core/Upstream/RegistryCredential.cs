using System.Net.Http.Headers;
using System.Text;

namespace NodeCache.Upstream;

/// <summary>A username and password for one upstream host; <see cref="ToString"/> hides the password.</summary>
public readonly record struct RegistryCredential(string Username, string Password)
{
    public override string ToString() => $"{Username}:***";

    internal AuthenticationHeaderValue ToBasicAuthorization() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));
}
