"""Readers of infrastructure code, shared by residue and posture; every one keeps positions.

- :mod:`harness.iac.lexers`: where the comments are, for every family of source the scans read.
- :mod:`harness.iac.hcl`: HCL (Terraform) bodies, blocks and attributes, with offsets.
- :mod:`harness.iac.hclexpr`: HCL expressions as trees with lines.
- :mod:`harness.iac.terraform`: the module graph of ``.tf`` source (modules, calls, roots).
- :mod:`harness.iac.cfn`: CloudFormation templates, each mapping keeping its keys' lines.
"""
