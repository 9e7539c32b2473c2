using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>A tmpfs of a few MiB mounted on a temp folder, so a test can fill a real filesystem and see ENOSPC; unmounted on dispose.</summary>
internal sealed class SmallDisk : IDisposable
{
    private readonly TempFolder _folder;

    private SmallDisk(TempFolder folder) => _folder = folder;

    public string Path => _folder.Path;

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public static async Task<SmallDisk> MountAsync(long bytes, CancellationToken cancellationToken)
    {
        var folder = TempFolder.Create("smalldisk");
        var mount = await ToolRun.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", folder.Path], TimeSpan.FromSeconds(10), cancellationToken);
        if (!mount.Succeeded)
        {
            folder.Dispose();
            throw new InvalidOperationException($"{mount.CommandLine} failed ({mount.ExitCode}): {mount.Stderr}");
        }
        return new SmallDisk(folder);
    }

    /// <summary>Writes a file that leaves about <paramref name="freeBytes"/> free on the disk (less, down to none, when others write meanwhile).</summary>
    public void FillLeaving(long freeBytes, string name = "filler")
    {
        var take = FreeBytes - freeBytes;
        if (take <= 0)
        {
            return;
        }
        using var file = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Create, FileAccess.Write);
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)0xA5);
        try
        {
            for (long written = 0; written < take; written += chunk.Length)
            {
                file.Write(chunk, 0, (int)Math.Min(chunk.Length, take - written));
            }
            file.Flush();
        }
        catch (IOException)
        {
            // Full already: the disk is as full as asked, or fuller.
        }
    }

    public void Dispose()
    {
        MountTable.UnmountUnder(_folder.Path);
        _folder.Dispose();
    }
}
