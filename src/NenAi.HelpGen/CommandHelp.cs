using System.Collections.Generic;

namespace NenAi.HelpGen
{
    /// <summary>One cmdlet's help as written in its platyPS markdown file.</summary>
    public sealed class CommandHelp
    {
        public string Name { get; set; } = string.Empty;
        public string Synopsis { get; set; } = string.Empty;
        public string Description { get; set; } = string.Empty;
        public List<SyntaxBlock> Syntax { get; } = new List<SyntaxBlock>();
        public List<ExampleHelp> Examples { get; } = new List<ExampleHelp>();
        public List<ParameterHelp> Parameters { get; } = new List<ParameterHelp>();
        public List<TypeHelp> Inputs { get; } = new List<TypeHelp>();
        public List<TypeHelp> Outputs { get; } = new List<TypeHelp>();
        public string Notes { get; set; } = string.Empty;
        public List<string> RelatedLinks { get; } = new List<string>();
    }

    public sealed record SyntaxBlock(string ParameterSet, string Text);

    public sealed record ExampleHelp(string Title, string Code, string Remarks);

    public sealed record TypeHelp(string TypeName, string Description);

    public sealed class ParameterHelp
    {
        public string Name { get; set; } = string.Empty;
        public string Description { get; set; } = string.Empty;
        /// <summary>The yaml block's fields: Type, Parameter Sets, Aliases, Required, Position, Default value, Accept pipeline input, ...</summary>
        public Dictionary<string, string> Fields { get; } = new Dictionary<string, string>(System.StringComparer.OrdinalIgnoreCase);

        public string Field(string name) => Fields.TryGetValue(name, out string? v) ? v : string.Empty;
    }
}
