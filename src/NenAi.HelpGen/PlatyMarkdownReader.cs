using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace NenAi.HelpGen
{
    /// <summary>
    /// Reads platyPS's markdown schema 2.0: "# Name", then "## SYNOPSIS", "## SYNTAX", "## DESCRIPTION",
    /// "## EXAMPLES" (### per example), "## PARAMETERS" (### -Name with a yaml block), "## INPUTS",
    /// "## OUTPUTS", "## NOTES", "## RELATED LINKS".
    /// </summary>
    public static class PlatyMarkdownReader
    {
        public static CommandHelp ReadFile(string path) => Read(File.ReadAllText(path));

        public static CommandHelp Read(string markdown)
        {
            var help = new CommandHelp();
            string[] lines = markdown.Replace("\r\n", "\n").Split('\n');
            int i = 0;
            // Front matter.
            if (lines.Length > 0 && lines[0].Trim() == "---")
            {
                i = 1;
                while (i < lines.Length && lines[i].Trim() != "---") i++;
                i++;
            }

            string? section = null;
            string? sub = null;
            var text = new StringBuilder();
            string? code = null;
            ParameterHelp? parameter = null;

            void Flush()
            {
                string body = text.ToString().Trim();
                text.Clear();
                switch (section)
                {
                    case "SYNOPSIS": help.Synopsis = body; break;
                    case "DESCRIPTION": help.Description = body; break;
                    case "NOTES": help.Notes = body; break;
                    case "EXAMPLES" when sub != null: help.Examples.Add(new ExampleHelp(sub, code ?? string.Empty, body)); break;
                    case "PARAMETERS" when parameter != null: parameter.Description = body; break;
                    case "INPUTS" when sub != null: help.Inputs.Add(new TypeHelp(sub, body)); break;
                    case "OUTPUTS" when sub != null: help.Outputs.Add(new TypeHelp(sub, body)); break;
                    case "RELATED LINKS":
                        foreach (string l in body.Split('\n')) if (l.Trim().Length > 0) help.RelatedLinks.Add(l.Trim());
                        break;
                }
                code = null;
            }

            for (; i < lines.Length; i++)
            {
                string line = lines[i];
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    string lang = line.Substring(3).Trim();
                    var block = new StringBuilder();
                    for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++) block.AppendLine(lines[i]);
                    string content = block.ToString().TrimEnd();
                    if (section == "PARAMETERS" && parameter != null && lang == "yaml")
                    {
                        ReadYaml(content, parameter);
                    }
                    else if (section == "SYNTAX") help.Syntax.Add(new SyntaxBlock(sub ?? "__AllParameterSets", content));
                    else if (section == "EXAMPLES") code = code is null ? content : code + "\n" + content;
                    continue;
                }
                if (line.StartsWith("# ", StringComparison.Ordinal) && help.Name.Length == 0) { help.Name = line.Substring(2).Trim(); continue; }
                if (line.StartsWith("## ", StringComparison.Ordinal))
                {
                    Flush();
                    section = line.Substring(3).Trim().ToUpperInvariant();
                    sub = null;
                    parameter = null;
                    continue;
                }
                if (line.StartsWith("### ", StringComparison.Ordinal))
                {
                    Flush();
                    sub = line.Substring(4).Trim();
                    if (section == "PARAMETERS")
                    {
                        parameter = null;
                        if (sub.StartsWith("-", StringComparison.Ordinal))
                        {
                            parameter = new ParameterHelp { Name = sub.Substring(1).Trim() };
                            help.Parameters.Add(parameter);
                        }
                    }
                    continue;
                }
                text.AppendLine(line);
            }
            Flush();
            return help;
        }

        private static void ReadYaml(string yaml, ParameterHelp parameter)
        {
            foreach (string raw in yaml.Split('\n'))
            {
                int colon = raw.IndexOf(':');
                if (colon <= 0) continue;
                parameter.Fields[raw.Substring(0, colon).Trim()] = raw.Substring(colon + 1).Trim();
            }
        }
    }
}
