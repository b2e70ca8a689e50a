// images/images.tsv as the release workflow's job matrix: prints `images=[{name, dir, …}, …]`.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const images = readFileSync(join(__dirname, 'images.tsv'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() && !line.startsWith('#'))
  .map((line) => {
    const [name, dir, workspace, user, packages, description] = line.split('\t');
    return { name, dir, workspace, user, packages: packages === '-' ? '' : packages.split(',').join(' '), description };
  });
process.stdout.write(`images=${JSON.stringify(images)}\n`);
