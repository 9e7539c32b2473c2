using System.Globalization;

namespace NodeCache.PerfHarness.Measurement;

/// <summary>
/// CPU time (user + system) of a process and every process under it (nginx's workers), from /proc. On a shared, noisy
/// machine the CPU a server spends per byte moves far less than its throughput does: it is the steadier comparison.
/// </summary>
internal static class ProcessCpu
{
    // USER_HZ: /proc reports times in clock ticks of 1/100 s on every Linux architecture the agent runs on.
    private const double TicksPerSecond = 100;

    public static TimeSpan Of(int pid) => TimeSpan.FromSeconds(Ticks(pid) / TicksPerSecond);

    private static long Ticks(int pid)
    {
        long ticks;
        try
        {
            // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is the 14th field, stime the 15th.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // gone meanwhile
        }
        foreach (var child in Children(pid))
        {
            ticks += Ticks(child);
        }
        return ticks;
    }

    private static int[] Children(int pid)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks))
        {
            return [];
        }
        return Directory.EnumerateDirectories(tasks)
            .Select(task => Path.Combine(task, "children"))
            .Where(File.Exists)
            .SelectMany(path => File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(id => int.Parse(id, CultureInfo.InvariantCulture))
            .ToArray();
    }
}
