using System.Globalization;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// Which process made the network of a run tag: a file <c>/tmp/nct/networks/&lt;tag&gt;</c> holding its PID, the PID's
/// start time (so a recycled PID does not pass for the owner) and the run's /24. It is written before the first
/// namespace or link of the run and removed after the last, so a namespace whose owner is gone is a leftover of a run
/// that was killed.
/// </summary>
internal sealed record NetworkOwner(string Tag, int Pid, long StartTime, string Subnet)
{
    public const string Folder = "/tmp/nct/networks";

    public static NetworkOwner OfThisProcess(string tag, string subnet) =>
        new(tag, Environment.ProcessId, StartTimeOf(Environment.ProcessId) ?? 0, subnet);

    /// <summary>Every recorded owner; unreadable files count as no owner.</summary>
    public static IReadOnlyList<NetworkOwner> All()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }
        var owners = new List<NetworkOwner>();
        foreach (var file in Directory.EnumerateFiles(Folder))
        {
            try
            {
                var fields = File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                owners.Add(new NetworkOwner(System.IO.Path.GetFileName(file), int.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture), fields[2]));
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
            {
                // Half written by a run that is starting, or damaged: it names no owner that could be checked.
            }
        }
        return owners;
    }

    public string Path => System.IO.Path.Combine(Folder, Tag);

    public bool IsAlive => StartTimeOf(Pid) is { } started && started == StartTime;

    /// <summary>Claims the tag; false when another run holds it already.</summary>
    public bool TryClaim()
    {
        Directory.CreateDirectory(Folder);
        try
        {
            using var file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write);
            using var writer = new StreamWriter(file);
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{Pid} {StartTime} {Subnet}"));
            return true;
        }
        catch (IOException) when (File.Exists(Path))
        {
            return false;
        }
    }

    public void Release() => File.Delete(Path);

    // Field 22 of /proc/<pid>/stat, counted after the command name, which may hold spaces and parentheses.
    private static long? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
