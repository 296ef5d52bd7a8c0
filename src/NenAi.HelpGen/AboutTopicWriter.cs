using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace NenAi.HelpGen
{
    /// <summary>
    /// Turns an about_*.md topic into the plain text Get-Help shows for about topics, laid out as PowerShell's own:
    /// "TOPIC" and the topic's name, then each "## HEADING" in capitals at the margin with its text indented four
    /// spaces and wrapped at 80 columns. Lists keep a hanging indent, tables become aligned columns, code stays as
    /// written (four spaces further in), and no Markdown syntax is left: no #, backticks, emphasis or link brackets.
    /// Get-Help takes the fifth line as the topic's synopsis, which is the first line of SHORT DESCRIPTION here.
    /// </summary>
    public static class AboutTopicWriter
    {
        public const int Width = 80;
        private const string Indent = "    ";
        private static readonly Regex Heading = new Regex(@"^(#{1,6})\s+(.*?)\s*#*\s*$");
        private static readonly Regex ListItem = new Regex(@"^(\s{0,3})([-*+]|\d+[.)])\s+(.*)$");
        private static readonly Regex TableSeparator = new Regex(@"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$");

        public static string Write(string markdown)
        {
            string[] lines = Regex.Replace(markdown.Replace("\r\n", "\n"), @"<!--.*?-->", string.Empty, RegexOptions.Singleline).Split('\n');
            var output = new List<string>();
            var paragraph = new List<string>();
            string? listMarker = null;

            void FlushParagraph()
            {
                if (paragraph.Count == 0) return;
                string text = Inline(string.Join(" ", paragraph.Select(l => l.Trim())));
                if (listMarker is null) output.AddRange(Wrap(text, Indent, Indent));
                else output.AddRange(Wrap(text, Indent + listMarker + " ", Indent + new string(' ', listMarker.Length + 1)));
                paragraph.Clear();
                listMarker = null;
            }

            // A heading's text starts on the next line, as in PowerShell's own topics (and Get-Help's synopsis on line 5).
            int headingEnd = -1;

            void Blank()
            {
                FlushParagraph();
                if (output.Count > 0 && output[output.Count - 1].Length > 0 && output.Count != headingEnd) output.Add(string.Empty);
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd();
                Match heading = Heading.Match(line);
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    Blank();
                    for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal); i++)
                        output.Add(lines[i].TrimEnd().Length == 0 ? string.Empty : Indent + Indent + lines[i].TrimEnd());
                    Blank();
                }
                else if (heading.Success)
                {
                    FlushParagraph();
                    if (output.Count > 0 && output[output.Count - 1].Length > 0) output.Add(string.Empty);
                    string title = Inline(heading.Groups[2].Value);
                    if (heading.Groups[1].Value.Length == 1)
                    {
                        output.Add("TOPIC");
                        output.Add(Indent + title);
                    }
                    else if (heading.Groups[1].Value.Length == 2) output.Add(title.ToUpperInvariant());
                    else output.Add(Indent + title);
                    headingEnd = output.Count;
                }
                else if (line.Length == 0)
                {
                    Blank();
                }
                else if (line.StartsWith(Indent, StringComparison.Ordinal) && paragraph.Count == 0)
                {
                    // An indented block is code or a layout of its own: kept as written.
                    output.Add(Indent + line);
                }
                else if (line.TrimStart().StartsWith("|", StringComparison.Ordinal))
                {
                    Blank();
                    var rows = new List<string>();
                    for (; i < lines.Length && lines[i].TrimStart().StartsWith("|", StringComparison.Ordinal); i++) rows.Add(lines[i]);
                    i--;
                    output.AddRange(Table(rows));
                    Blank();
                }
                else if (ListItem.Match(line) is Match item && item.Success)
                {
                    FlushParagraph();
                    listMarker = item.Groups[2].Value;
                    paragraph.Add(item.Groups[3].Value);
                }
                else if (line.StartsWith(">", StringComparison.Ordinal))
                {
                    paragraph.Add(line.TrimStart('>', ' '));
                }
                else
                {
                    paragraph.Add(line);
                }
            }
            Blank();
            while (output.Count > 0 && output[output.Count - 1].Length == 0) output.RemoveAt(output.Count - 1);
            return string.Join(Environment.NewLine, output) + Environment.NewLine;
        }

        /// <summary>Markdown's inline syntax as plain text: code spans, emphasis, links and escapes.</summary>
        public static string Inline(string text)
        {
            var spans = new List<string>();
            // Code spans first: what is inside them is literal.
            string result = Regex.Replace(text, @"(`+)(.+?)\1", m => { spans.Add(m.Groups[2].Value.Trim()); return "\u0001" + (spans.Count - 1) + "\u0002"; });
            result = Regex.Replace(result, @"!?\[([^\]]*)\]\(([^)\s]+)(?:\s+""[^""]*"")?\)", m =>
                m.Groups[1].Value.Length == 0 || m.Groups[1].Value == m.Groups[2].Value ? m.Groups[2].Value : $"{m.Groups[1].Value} ({m.Groups[2].Value})");
            result = Regex.Replace(result, @"<((?:https?|mailto):[^>\s]+)>", "$1");
            result = Regex.Replace(result, @"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", "$2");
            // Single * only: an underscore is part of names such as about_NenAi and NEN_API_KEY.
            result = Regex.Replace(result, @"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", "$1");
            result = Regex.Replace(result, @"\\([\\`*_{}\[\]()#+\-.!|<>])", "$1");
            return Regex.Replace(result, "\u0001(\\d+)\u0002", m => spans[int.Parse(m.Groups[1].Value)]);
        }

        /// <summary>Words of <paramref name="text"/> in lines of at most <see cref="Width"/> columns (a longer word gets a line of its own).</summary>
        private static IEnumerable<string> Wrap(string text, string first, string rest)
        {
            var line = new StringBuilder(first);
            bool empty = true;
            foreach (string word in text.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (!empty && line.Length + 1 + word.Length > Width)
                {
                    yield return line.ToString();
                    line.Clear().Append(rest);
                    empty = true;
                }
                if (!empty) line.Append(' ');
                line.Append(word);
                empty = false;
            }
            if (!empty) yield return line.ToString();
        }

        /// <summary>A Markdown table as aligned columns, the header underlined with dashes.</summary>
        private static IEnumerable<string> Table(List<string> rows)
        {
            var cells = rows.Where(r => !TableSeparator.IsMatch(r))
                .Select(r => r.Trim().Trim('|').Split('|').Select(c => Inline(c.Trim())).ToList()).ToList();
            int columns = cells.Max(r => r.Count);
            var widths = Enumerable.Range(0, columns).Select(c => cells.Max(r => c < r.Count ? r[c].Length : 0)).ToList();
            string Row(IList<string> row) =>
                (Indent + string.Join("  ", Enumerable.Range(0, columns).Select(c => (c < row.Count ? row[c] : string.Empty).PadRight(widths[c])))).TrimEnd();
            bool header = rows.Count > 1 && TableSeparator.IsMatch(rows[1]);
            for (int r = 0; r < cells.Count; r++)
            {
                yield return Row(cells[r]);
                if (r == 0 && header) yield return Row(widths.Select(w => new string('-', w)).ToList());
            }
        }
    }
}
