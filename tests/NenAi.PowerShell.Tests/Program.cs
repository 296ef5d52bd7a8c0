using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;
using NenAi.PowerShell.Tests.Infrastructure;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// <c>dotnet NenAi.PowerShell.Tests.dll --run-script &lt;file&gt;</c> runs a script in a fresh hosted engine with
    /// the module imported and prints each output object and each error as one JSON line. Tests start it as a child
    /// process when they need conditions that would touch every test in this process (a file-size limit standing in
    /// for a full disk). Configuration comes from the child's own NEN_* variables.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length != 2 || args[0] != "--run-script")
            {
                Console.Error.WriteLine("usage: NenAi.PowerShell.Tests --run-script <file.ps1>");
                return 2;
            }
            using var session = new PsSession();
            PsResult result = session.Run(File.ReadAllText(args[1]));
            foreach (PSObject o in result.Output)
            {
                Print(new ChildLine
                {
                    Kind = "output", Type = o.TypeNames[0], Text = o.ToString(),
                    MessageId = PsResult.Prop(o, "MessageId")?.ToString(), Status = PsResult.Prop(o, "Status")?.ToString(),
                });
            }
            foreach (ErrorRecord e in result.AllErrors)
            {
                Print(new ChildLine
                {
                    Kind = "error", Type = e.CategoryInfo.Category.ToString(), Id = e.FullyQualifiedErrorId, Terminating = e == result.Terminating,
                    Text = e.Exception.Message, Target = PsResult.Prop(e.TargetObject, "Id")?.ToString() ?? (e.TargetObject as PSObject)?.BaseObject?.ToString() ?? e.TargetObject?.ToString(),
                });
            }
            return 0;
        }

        private static void Print(ChildLine line) => Console.WriteLine(JsonSerializer.Serialize(line));
    }

    /// <summary>One output object or error of a child engine's script.</summary>
    public sealed class ChildLine
    {
        public string Kind { get; set; } = string.Empty;
        public string? Type { get; set; }
        public string? Id { get; set; }
        public bool Terminating { get; set; }
        public string? Text { get; set; }
        public string? MessageId { get; set; }
        public string? Status { get; set; }
        public string? Target { get; set; }
    }
}
