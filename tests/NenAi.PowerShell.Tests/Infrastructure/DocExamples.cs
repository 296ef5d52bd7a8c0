using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Text.RegularExpressions;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// The documentation's runnable code, as the Pester docs suite collects it: every "### Example" of the
    /// cmdlet help and every README block marked &lt;!-- example ... --&gt;.
    /// </summary>
    public static class DocExamples
    {
        public sealed record Example(string Source, string Title, string Code)
        {
            public override string ToString() => $"{Source}: {Title}";
        }

        public static string RepoRoot
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "NenAi.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("NenAi.sln not found above the test folder.");
            }
        }

        public static IReadOnlyList<Example> All()
        {
            var examples = new List<Example>();
            foreach (string file in Directory.GetFiles(Path.Combine(RepoRoot, "docs", "en-US"), "*-Nen*.md").OrderBy(f => f, StringComparer.Ordinal))
            {
                string[] lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    Match m = Regex.Match(lines[i], @"^### (Example \d+.*)");
                    if (m.Success) examples.Add(new Example(Path.GetFileNameWithoutExtension(file), m.Groups[1].Value, FencedBlock(lines, i + 1)));
                }
            }
            string[] readme = File.ReadAllLines(Path.Combine(RepoRoot, "README.md"));
            for (int i = 0; i < readme.Length; i++)
            {
                if (!readme[i].StartsWith("<!-- example", StringComparison.Ordinal)) continue;
                string heading = readme.Take(i).LastOrDefault(l => Regex.IsMatch(l, "^#{2,3} "))?.TrimStart('#', ' ') ?? "Overview";
                int earlier = examples.Count(e => e.Source == "README" && (e.Title == heading || e.Title.StartsWith(heading + " (", StringComparison.Ordinal)));
                examples.Add(new Example("README", earlier == 0 ? heading : $"{heading} ({earlier + 1})", FencedBlock(readme, i + 1)));
            }
            return examples;
        }

        /// <summary>Commands the example calls that neither the engine nor NenAi provides, nor the example defines.</summary>
        public static IReadOnlyList<string> MissingCommands(Example example)
        {
            ScriptBlockAst ast = Parser.ParseInput(example.Code, out _, out _);
            var defined = ast.FindAll(a => a is FunctionDefinitionAst, true).Select(a => ((FunctionDefinitionAst)a).Name);
            var available = new HashSet<string>(InitialSessionState.CreateDefault().Commands.Select(c => c.Name).Concat(defined), StringComparer.OrdinalIgnoreCase)
            {
                "Start-NenRun", "Wait-NenRun", "Get-NenRunResult", "Test-NenWebhookSignature", "Get-NenRun", "Receive-NenWebhook",
                "Connect-NenService", "Get-NenConnection", "Disconnect-NenService",
                "Get-Secret", // SecretManagement; the tests stand in for it
            };
            return ast.FindAll(a => a is CommandAst, true).Select(a => ((CommandAst)a).GetCommandName())
                .Where(n => n != null && !available.Contains(n)).Distinct().ToList()!;
        }

        private static string FencedBlock(string[] lines, int from)
        {
            int start = from;
            while (start < lines.Length && !lines[start].StartsWith("```powershell", StringComparison.Ordinal)) start++;
            var code = new List<string>();
            for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++) code.Add(lines[i]);
            return string.Join("\n", code);
        }
    }
}
