// The tasks of the chosen project: add, tick, rename, delete. Every write goes to
// IndexedDB at once (and works offline); idb-sync sends it to the server.
import { useState, type FormEvent } from 'react';
import type { Project, Task } from './db';
import { useProjects, useSync, useTasks } from './hooks';
import { notify } from './notice';
import type { Selection } from './Projects';

export function Tasks({ selected }: { selected: Selection }) {
  const sync = useSync();
  const tasks = useTasks(selected);
  const projects = useProjects();
  const [title, setTitle] = useState('');
  const heading =
    selected === undefined ? 'All tasks' : selected === null ? 'No project' : projects.find((p) => p.id === selected)?.name;

  async function add(event: FormEvent) {
    event.preventDefault();
    if (!title.trim()) return;
    try {
      await sync.create('tasks', { title: title.trim(), done: false, projectId: selected ?? null, createdAt: Date.now() });
      setTitle('');
    } catch (e) {
      notify(e);
    }
  }

  return (
    <section className="card">
      <h2 data-testid="tasks-heading">{heading ?? 'Project'}</h2>
      <form className="add-task" onSubmit={add}>
        <input type="text" data-testid="new-task" placeholder="What needs doing?" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit" className="primary" data-testid="add-task">Add task</button>
      </form>
      {tasks.length === 0 ? (
        <p className="empty">Nothing here yet.</p>
      ) : (
        <ul className="tasks" data-testid="tasks">
          {tasks.map((task) => (
            <TaskRow key={task.id} task={task} project={selected === undefined ? projects.find((p) => p.id === task.projectId) : undefined} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TaskRow({ task, project }: { task: Task; project?: Project }) {
  const sync = useSync();
  const [editing, setEditing] = useState<string | null>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (editing === null || !editing.trim()) return;
    await sync.update('tasks', task.id, { title: editing.trim() }).catch(notify);
    setEditing(null);
  }

  return (
    <li className={`task${task.done ? ' done' : ''}`} data-testid="task">
      <input
        type="checkbox"
        data-testid="task-done"
        checked={task.done}
        onChange={(e) => sync.update('tasks', task.id, { done: e.target.checked }).catch(notify)}
      />
      {editing === null ? (
        <>
          <span className="title" data-testid="task-title">{task.title}</span>
          {project && <span className="tag">{project.name}</span>}
          <button className="link" data-testid="task-edit" onClick={() => setEditing(task.title)}>Edit</button>
          <button className="link" data-testid="task-delete" onClick={() => sync.delete('tasks', task.id).catch(notify)}>
            Delete
          </button>
        </>
      ) : (
        <form onSubmit={save}>
          <input type="text" data-testid="task-edit-input" value={editing} autoFocus onChange={(e) => setEditing(e.target.value)} />
          <button type="submit" data-testid="task-save">Save</button>
        </form>
      )}
    </li>
  );
}
