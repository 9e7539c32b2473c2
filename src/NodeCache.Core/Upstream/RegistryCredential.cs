namespace NodeCache.Upstream;

/// <summary>A username and password for one upstream host; <see cref="ToString"/> hides the password.</summary>
public readonly record struct RegistryCredential(string Username, string Password)
{
    public override string ToString() => $"{Username}:***";
}
