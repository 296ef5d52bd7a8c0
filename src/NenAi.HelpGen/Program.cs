using System;
using System.IO;
using System.Linq;
using NenAi.HelpGen;

// NenAi.HelpGen <docs folder> <output folder>: writes NenAi.dll-Help.xml from every cmdlet markdown file and
// each about_*.md as the plain-text about_*.help.txt PowerShell's Get-Help reads (AboutTopicWriter).
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: NenAi.HelpGen <docs/en-US> <output folder>");
    return 2;
}
string[] markdown = Directory.GetFiles(args[0], "*.md").OrderBy(p => p, StringComparer.Ordinal).ToArray();
bool IsAbout(string p) => Path.GetFileName(p).StartsWith("about_", StringComparison.OrdinalIgnoreCase);
var commands = markdown.Where(p => !IsAbout(p)).Select(PlatyMarkdownReader.ReadFile).ToList();
Directory.CreateDirectory(args[1]);
string target = Path.Combine(args[1], "NenAi.dll-Help.xml");
File.WriteAllText(target, MamlWriter.Write(commands));
foreach (string about in markdown.Where(IsAbout))
    File.WriteAllText(Path.Combine(args[1], Path.GetFileNameWithoutExtension(about) + ".help.txt"), AboutTopicWriter.Write(File.ReadAllText(about)));
Console.WriteLine($"Wrote {target} ({commands.Count} commands, {commands.Sum(c => c.Parameters.Count)} parameters) and {markdown.Count(IsAbout)} about topic(s).");
return 0;
