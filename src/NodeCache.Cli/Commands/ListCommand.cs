using System.CommandLine;
using NodeCache.Control.V1;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache ls</c>: the images in this node's cache.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var command = new Command("ls", "List the images in this node's cache: size, last use, pinned");
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var response = await agent.Client.ListImagesAsync(new ListImagesRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(CommonOptions.Output) == OutputFormat.Json)
            {
                Console.WriteLine(CommonOptions.Json(response));
                return ExitCode.Ok;
            }
            var table = new Table().AddColumns("IMAGE", "DIGEST", "SIZE", "BLOBS", "LAST USED", "PINNED");
            foreach (var image in response.Images)
            {
                table.AddRow(
                    Markup.Escape(image.Image), PrewarmCommand.Short(image.Digest), ByteSize.Format(image.Size), image.Blobs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    image.LastUsed?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "-", image.Pinned ? "yes" : "no");
            }
            AnsiConsole.Write(table);
            return ExitCode.Ok;
        });
        return command;
    }
}
