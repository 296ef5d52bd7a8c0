# Loads the cmdlet assembly built for the running edition: net8.0 on PowerShell 7.4+, net472 on
# Windows PowerShell 5.1. Works from a built module folder (bin\<tfm>) and from the repository root
# after ./build.ps1 -Task Build (out\NenAi\bin\<tfm>). Only engine commands and .NET are used here, so the
# module loads wherever the engine does (no Microsoft.PowerShell.Utility/Management needed).
$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core
$tfm = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }

$innerMod = if ('NenAi.Commands.StartNenRunCommand' -as [type]) {
    # Re-import in the same session: the assembly is already loaded and cannot be loaded twice.
    &$importModule -Assembly ([NenAi.Commands.StartNenRunCommand].Assembly) -Force -PassThru
}
else {
    $candidates = @(
        [System.IO.Path]::Combine($PSScriptRoot, 'bin', $tfm, 'NenAi.dll'),
        [System.IO.Path]::Combine($PSScriptRoot, 'out', 'NenAi', 'bin', $tfm, 'NenAi.dll')
    )
    $dll = $null
    foreach ($candidate in $candidates) {
        if ([System.IO.File]::Exists($candidate)) { $dll = $candidate; break }
    }
    if (-not $dll) {
        throw "NenAi is not built for $tfm. Run ./build.ps1 -Task Build first (looked in: $($candidates -join ', '))."
    }
    &$importModule -Name $dll -ErrorAction Stop -PassThru
}

if ($innerMod) {
    # Import-Module of an assembly can hand back a cached module without exporting its cmdlets into
    # this module's scope (PowerShell/PowerShell#20710); add them explicitly.
    $addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod(
        'AddExportedCmdlet',
        [System.Reflection.BindingFlags]'Instance, NonPublic'
    )
    foreach ($cmd in $innerMod.ExportedCmdlets.Values) {
        $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmd))
    }
}
