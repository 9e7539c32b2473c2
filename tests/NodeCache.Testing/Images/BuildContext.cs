using System.Security.Cryptography;
using System.Text;

namespace NodeCache.Testing.Images;

/// <summary>
/// What a <c>docker build</c> of the repository reads: every file under it except what <c>.dockerignore</c> leaves out,
/// reduced to one hash with the bases it builds on, to name a build in the cache.
/// </summary>
public static class BuildContext
{
    /// <summary>A hash of every context file's path and content, and of <paramref name="bases"/> (whose folder name is itself a hash of their inputs).</summary>
    public static async Task<string> KeyAsync(string root, string bases, CancellationToken cancellationToken = default)
    {
        var ignored = Ignored(root);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(bases + "\n"));
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
                     .Where(f => !ignored.Any(pattern => Matches(pattern, f)))
                     .Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\n"));
            hash.AppendData(await File.ReadAllBytesAsync(Path.Combine(root, file), cancellationToken));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private static List<string> Ignored(string root)
    {
        var file = Path.Combine(root, ".dockerignore");
        return File.Exists(file)
            ? [.. File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))]
            : [];
    }

    // The forms .dockerignore uses here: "dir/" (a folder at the root) and "**/dir/" (a folder anywhere).
    private static bool Matches(string pattern, string path)
    {
        var folder = pattern.TrimEnd('/');
        return folder.StartsWith("**/", StringComparison.Ordinal)
            ? ("/" + path).Contains("/" + folder[3..] + "/", StringComparison.Ordinal)
            : path == folder || path.StartsWith(folder + "/", StringComparison.Ordinal);
    }
}
