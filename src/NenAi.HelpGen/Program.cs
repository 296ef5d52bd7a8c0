using System;
using System.IO;
using System.Linq;
using NenAi.HelpGen;

// NenAi.HelpGen <docs folder> <output folder>: writes NenAi.dll-Help.xml from every cmdlet markdown file.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: NenAi.HelpGen <docs/en-US> <output folder>");
    return 2;
}
var commands = Directory.GetFiles(args[0], "*.md")
    .Where(p => !Path.GetFileName(p).StartsWith("about_", StringComparison.OrdinalIgnoreCase))
    .OrderBy(p => p, StringComparer.Ordinal)
    .Select(PlatyMarkdownReader.ReadFile)
    .ToList();
Directory.CreateDirectory(args[1]);
string target = Path.Combine(args[1], "NenAi.dll-Help.xml");
File.WriteAllText(target, MamlWriter.Write(commands));
Console.WriteLine($"Wrote {target} ({commands.Count} commands, {commands.Sum(c => c.Parameters.Count)} parameters).");
return 0;
