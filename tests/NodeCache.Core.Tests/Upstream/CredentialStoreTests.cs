using NodeCache.Testing;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class CredentialStoreTests : IDisposable
{
    private const string Secret = "Sup3r:S3cret";
    private readonly TempFolder _folder = TempFolder.Create("credentials");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_file_holds_username_colon_password_and_its_trailing_newline_is_not_part_of_the_password()
    {
        var file = Write("harbor.txt", $"robot$nodecache:{Secret}\n");

        var store = CredentialStore.Parse([$"harbor.example={file}"]);

        Assert.True(store.TryGet("harbor.example", out var credential));
        Assert.Equal(new RegistryCredential("robot$nodecache", Secret), credential);
    }

    [Fact]
    public void A_folder_holds_username_and_password_files_as_a_mounted_kubernetes_secret()
    {
        var secret = _folder.Combine("secret");
        Directory.CreateDirectory(secret);
        File.WriteAllText(Path.Combine(secret, "username"), "robot$nodecache");
        File.WriteAllText(Path.Combine(secret, "password"), Secret);

        var store = CredentialStore.Parse([$"harbor.example:8443={secret}"]);

        Assert.True(store.TryGet("harbor.example:8443", out var credential));
        Assert.Equal(new RegistryCredential("robot$nodecache", Secret), credential);
        Assert.False(store.TryGet("harbor.example", out _));
    }

    [Fact]
    public void An_environment_variable_holds_username_colon_password()
    {
        var store = CredentialStore.Parse(["ghcr.io=env:GHCR_AUTH"], name => name == "GHCR_AUTH" ? $"bot:{Secret}" : null);

        Assert.True(store.TryGet("ghcr.io", out var credential));
        Assert.Equal(new RegistryCredential("bot", Secret), credential);
    }

    [Fact]
    public void Hosts_match_regardless_of_case_and_may_be_given_as_urls()
    {
        var file = Write("c.txt", $"u:{Secret}");

        var store = CredentialStore.Parse([$"https://Harbor.Example/={file}"]);

        Assert.True(store.TryGet("HARBOR.example", out _));
    }

    [Fact]
    public void Credentials_for_docker_io_serve_its_api_host()
    {
        var file = Write("hub.txt", $"me:{Secret}");

        var store = CredentialStore.Parse([$"docker.io={file}"]);

        Assert.True(store.TryGet("registry-1.docker.io", out _));
    }

    [Fact]
    public void The_empty_store_has_nothing()
    {
        Assert.False(CredentialStore.Empty.TryGet("harbor.example", out _));
    }

    [Fact]
    public void A_credential_prints_without_its_password()
    {
        Assert.Equal("robot:***", new RegistryCredential("robot", Secret).ToString());
        Assert.DoesNotContain(Secret, $"{new RegistryCredential("robot", Secret)}", StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_fails_with_a_message_naming_host_and_path()
    {
        var missing = _folder.Combine("absent.txt");

        var error = Assert.Throws<IOException>(() => CredentialStore.Parse([$"harbor.example={missing}"]));

        Assert.Contains("harbor.example", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_folder_without_a_password_file_fails_naming_the_missing_file()
    {
        var secret = _folder.Combine("half");
        Directory.CreateDirectory(secret);
        File.WriteAllText(Path.Combine(secret, "username"), "robot");

        var error = Assert.Throws<IOException>(() => CredentialStore.Parse([$"harbor.example={secret}"]));

        Assert.Contains("the folder has no 'password' file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_a_colon_fails_without_repeating_its_content()
    {
        var file = Write("token-only.txt", "0nlyAS3cretToken");

        var error = Assert.Throws<FormatException>(() => CredentialStore.Parse([$"harbor.example={file}"]));

        Assert.Contains("expected username:password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0nlyAS3cretToken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pasted_secret_in_place_of_a_path_is_not_repeated()
    {
        var error = Assert.Throws<IOException>(() => CredentialStore.Parse([$"harbor.example=robot:{Secret}"]));

        Assert.Contains("harbor.example", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spec_without_a_host_is_refused_without_repeating_it()
    {
        var error = Assert.Throws<FormatException>(() => CredentialStore.Parse([$"robot{Secret}"]));

        Assert.Contains("expected HOST=PATH or HOST=env:VAR", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unset_or_malformed_environment_variable_fails_without_repeating_its_value()
    {
        var unset = Assert.Throws<FormatException>(() => CredentialStore.Parse(["ghcr.io=env:GHCR_AUTH"], _ => null));
        var malformed = Assert.Throws<FormatException>(() => CredentialStore.Parse(["ghcr.io=env:GHCR_AUTH"], _ => "NoColonS3cret"));

        Assert.Contains("GHCR_AUTH is not set", unset.Message, StringComparison.Ordinal);
        Assert.Contains("GHCR_AUTH does not hold username:password", malformed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("NoColonS3cret", malformed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_host_twice_is_refused()
    {
        var file = Write("c.txt", $"u:{Secret}");

        var error = Assert.Throws<FormatException>(() => CredentialStore.Parse([$"harbor.example={file}", $"HARBOR.example={file}"]));

        Assert.Contains("given twice", error.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string content)
    {
        var path = _folder.Combine(name);
        File.WriteAllText(path, content);
        return path;
    }
}
