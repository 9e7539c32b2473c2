using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace NodeCache.Testing;

/// <summary>
/// Detaches mounts a killed containerd left under its root (overlay snapshots being unpacked, say): a temp folder
/// with a live mount in it cannot be deleted.
/// </summary>
public static partial class MountTable
{
    private const int MntDetach = 2;

    /// <summary>Mount points under the folder, deepest first; /proc/self/mountinfo escapes spaces and the like as octal.</summary>
    public static IReadOnlyList<string> MountsUnder(string folder)
    {
        var prefix = folder.TrimEnd('/') + "/";
        return [.. File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4)
            .Select(fields => Unescape(fields[4]))
            .Where(mountPoint => mountPoint.StartsWith(prefix, StringComparison.Ordinal) || mountPoint == folder)
            .OrderByDescending(mountPoint => mountPoint.Length)];
    }

    public static void UnmountUnder(string folder)
    {
        foreach (var mountPoint in MountsUnder(folder))
        {
            _ = Unmount(mountPoint, MntDetach);
        }
    }

    private static string Unescape(string field) =>
        OctalEscape().Replace(field, m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    [GeneratedRegex(@"\\([0-7]{3})")]
    private static partial Regex OctalEscape();

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unmount(string target, int flags);
}
