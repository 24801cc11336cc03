// The project list: choose which tasks to see, add a project.
import { useState, type FormEvent } from 'react';
import { useProjects, useSync } from './hooks';
import { notify } from './notice';

/** `undefined`: every task; `null`: tasks in no project; else a project's id. */
export type Selection = string | null | undefined;

export function Projects({ selected, onSelect }: { selected: Selection; onSelect: (s: Selection) => void }) {
  const sync = useSync();
  const projects = useProjects();
  const [name, setName] = useState('');

  async function add(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return;
    try {
      const project = await sync.create('projects', { name: name.trim(), createdAt: Date.now() });
      setName('');
      onSelect(project.id);
    } catch (e) {
      notify(e);
    }
  }

  const item = (key: Selection, label: string) => (
    <li key={String(key)}>
      <button className={selected === key ? 'active' : ''} data-testid="project" onClick={() => onSelect(key)}>
        {label}
      </button>
    </li>
  );
  return (
    <nav className="card projects">
      <h2>Projects</h2>
      <ul>
        {item(undefined, 'All tasks')}
        {item(null, 'No project')}
        {projects.map((project) => item(project.id, project.name))}
      </ul>
      <form onSubmit={add}>
        <input type="text" data-testid="new-project" placeholder="New project" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" data-testid="add-project">Add</button>
      </form>
    </nav>
  );
}
